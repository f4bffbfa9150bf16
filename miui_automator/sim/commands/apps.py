"""Activity and package managers: ``am``, ``monkey``, ``pm`` (input methods: :mod:`.ime`).

Intents go to :meth:`Phone.start_activity`, which knows the MIUI screens; this module only
speaks the command-line dialects (``am start -n pkg/.Act -a ... --es k v -W``) and prints
what ActivityManager/PackageManager print. ``pm clear``/``pm grant`` honour MIUI's
Security-settings gate (CLEAR_APP_USER_DATA, GRANT_RUNTIME_PERMISSIONS are denied to the
shell while it is off); ``pm install`` honours "Install via USB" (``state.usb_install``, the persist.security.adbinstall property),
parses the APK's manifest and keeps the APK at the package's path, as PackageManager does.
"""

from __future__ import annotations

from ..apk import parse_apk
from ..state import Package
from .automation import INSTRUMENT_PACKAGE, u2_launch
from .base import CommandError, Ctx, gate_open, java_exception, short_component
from .ime import forget_package, keyboard_broadcast
from .procs import token

_EXTRA_FLAGS = {"-e": 2, "--es": 2, "--ei": 2, "--ez": 2, "--el": 2, "--ef": 2, "--eu": 2, "--ecn": 2, "--eia": 2,
                "--ela": 2, "--efa": 2, "--esa": 2, "--esn": 1}
_IGNORED_WITH_VALUE = {"--user", "--display", "--windowingMode", "--activityType", "--start-profiler", "-P",
                       "--attach-agent", "--receiver-permission", "--task", "--sampling", "--streaming", "-t"}


class Intent:
    """The intent an ``am`` command line describes, printed as ``Intent.toString()`` does."""

    def __init__(self) -> None:
        self.action: str | None = None
        self.categories: list[str] = []
        self.data: str | None = None
        self.mime: str | None = None
        self.package: str | None = None
        self.component: str | None = None
        self.flags: int = 0
        self.extras: dict[str, str] = {}

    def describe(self, extra_flags: int = 0) -> str:
        parts = []
        if self.action:
            parts.append(f"act={self.action}")
        if self.categories:
            parts.append(f"cat=[{','.join(self.categories)}]")
        if self.data:
            parts.append(f"dat={self.data}")
        if self.mime:
            parts.append(f"typ={self.mime}")
        if self.flags | extra_flags:
            parts.append(f"flg=0x{self.flags | extra_flags:x}")
        if self.package:
            parts.append(f"pkg={self.package}")
        if self.component:
            pkg, _, cls = self.component.partition("/")
            parts.append(f"cmp={short_component(pkg, pkg + cls if cls.startswith('.') else cls)}")
        if self.extras:
            parts.append("(has extras)")
        return "Intent { " + " ".join(parts) + " }"

    @property
    def target_package(self) -> str | None:
        return self.component.partition("/")[0] if self.component else self.package


def parse_intent(args: list[str], command: str) -> tuple[Intent, set[str]]:
    """Parse ``am`` intent arguments; returns the intent and the bare option flags (-W, -S, ...)."""
    intent = Intent()
    options: set[str] = set()
    i = 0
    while i < len(args):
        arg = args[i]
        value = args[i + 1] if i + 1 < len(args) else None
        if arg in ("-n", "-a", "-c", "-d", "-p", "-f", "--type") or arg in _IGNORED_WITH_VALUE:
            if value is None:
                raise CommandError(f"Error: No argument supplied for {arg}\nUsage: am {command} ...", 255)
            if arg == "-n":
                if "/" not in value:
                    raise CommandError(f"Error: Bad component name: {value}", 255)
                intent.component = value
            elif arg == "-a":
                intent.action = value
            elif arg == "-c":
                intent.categories.append(value)
            elif arg == "-d":
                intent.data = value
            elif arg == "-p":
                intent.package = value
            elif arg == "-f":
                intent.flags |= int(value, 0)
            elif arg == "--type":
                intent.mime = value
            i += 2
        elif arg in _EXTRA_FLAGS:
            count = _EXTRA_FLAGS[arg]
            if i + count >= len(args):
                raise CommandError(f"Error: No argument supplied for {arg}", 255)
            key = args[i + 1]
            intent.extras[key] = args[i + 2] if count == 2 else ""
            i += 1 + count
        elif arg.startswith("-"):
            options.add(arg)
            i += 1
        else:
            if "/" in arg and ":" not in arg:
                intent.component = arg
            else:
                intent.data = arg
            i += 1
    return intent, options


def _am_start(ctx: Ctx, args: list[str]) -> int:
    intent, options = parse_intent(args, "start")
    phone = ctx.phone
    if "-S" in options and intent.target_package:
        phone.force_stop(intent.target_package)
    ctx.out(f"Starting: {intent.describe()}\n")
    ok, message = phone.start_activity(component=intent.component, action=intent.action, extras=intent.extras,
                                       package=intent.package, data=intent.data)
    if not ok:
        ctx.err(message.rstrip("\n") + "\n")
        return 1
    if "-W" in options:
        top = phone.top
        ctx.out("Status: ok\nLaunchState: COLD\n"
                f"Activity: {short_component(top.package, top.activity)}\n"
                "TotalTime: 312\nWaitTime: 318\nComplete\n")
    return 0


def _package_arg(args: list[str], command: str) -> str:
    rest = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "--user")]
    if not rest:
        raise CommandError(f"Error: no package specified for {command}", 255)
    return rest[0]


def am(ctx: Ctx, args: list[str]) -> int:
    if not args:
        ctx.out("Activity manager (activity) commands:\n  start [options] INTENT\n  force-stop PACKAGE\n"
                "  broadcast [options] INTENT\n  instrument [options] COMPONENT\n")
        return 0
    verb, rest = args[0], args[1:]
    if verb in ("start", "start-activity"):
        return _am_start(ctx, rest)
    if verb in ("force-stop", "stop-app", "kill"):
        ctx.phone.force_stop(_package_arg(rest, verb))
        return 0
    if verb in ("broadcast", "send-broadcast"):
        intent, _ = parse_intent(rest, verb)
        ctx.out(f"Broadcasting: {intent.describe(0x400000)}\n")
        answer = keyboard_broadcast(ctx.phone, intent.action, intent.extras)
        if answer is None:
            ctx.out("Broadcast completed: result=0\n")
        else:
            ctx.out(f'Broadcast completed: result={answer[0]}, data="{answer[1]}"\n')
        return 0
    if verb in ("startservice", "start-service", "start-foreground-service", "startforegroundservice"):
        intent, _ = parse_intent(rest, verb)
        ctx.out(f"Starting service: {intent.describe()}\n")
        return 0
    if verb == "instrument":
        return _instrument(ctx, rest)
    if verb == "get-current-user":
        ctx.out("0\n")
        return 0
    raise CommandError(f"Unknown command: {verb}", 255)


def _instrument_component(args: list[str]) -> str | None:
    i = 0
    while i < len(args):
        if args[i] == "-e":
            i += 3
        elif args[i] in ("-p", "--user", "--abi"):
            i += 2
        elif args[i].startswith("-"):
            i += 1
        else:
            return args[i]
    return None


def _instrument(ctx: Ctx, args: list[str]) -> int:
    component = _instrument_component(args)
    if component is None:
        raise CommandError("Error: No instrumentation component given", 255)
    installed = any(p.name == component.split("/")[0] for p in ctx.phone.state.packages)
    if not installed or component.split("/")[0] != INSTRUMENT_PACKAGE:
        ctx.out("INSTRUMENTATION_STATUS: id=ActivityManagerService\n"
                f"INSTRUMENTATION_STATUS: Error=Unable to find instrumentation info for: ComponentInfo{{{component}}}\n"
                "INSTRUMENTATION_STATUS_CODE: -1\n")
        ctx.err(f"android.util.AndroidException: INSTRUMENTATION_FAILED: {component}\n"
                "\tat com.android.commands.am.Instrument.run(Instrument.java:519)\n"
                "\tat com.android.commands.am.Am.runInstrument(Am.java:202)\n")
        return 1
    return u2_launch(ctx, startup="INSTRUMENTATION_STATUS: class=com.github.uiautomator.stub.Stub\n"
                                  "INSTRUMENTATION_STATUS: current=1\nINSTRUMENTATION_STATUS_CODE: 1\n")


def monkey(ctx: Ctx, args: list[str]) -> int:
    packages: list[str] = []
    count = 0
    i = 0
    while i < len(args):
        if args[i] == "-p" and i + 1 < len(args):
            packages.append(args[i + 1])
            i += 2
        elif args[i] in ("-c", "--throttle", "-s", "--pct-touch", "--pct-motion", "--pct-syskeys") and i + 1 < len(args):
            i += 2
        elif args[i].isdigit():
            count = int(args[i])
            i += 1
        else:
            i += 1
    listing = "".join(f"  bash arg: {a}\n" for a in args) + f"args: [{', '.join(args)}]\n" + \
        "".join(f' arg: "{a}"\n' for a in args)
    ctx.out(listing)
    if not packages or count < 1:
        ctx.out("** No activities found to run, monkey aborted.\n")
        return 251
    ok, _ = ctx.phone.start_activity(package=packages[0])
    if not ok:
        ctx.out("** No activities found to run, monkey aborted.\n")
        return 251
    ctx.out("".join(f'data="{p}"\n' for p in packages) + f"Events injected: {count}\n"
            "## Network stats: elapsed time=14ms (0ms mobile, 0ms wifi, 14ms not connected)\n")
    return 0


# ----------------------------------------------------------------------------- pm
_PM_FRAMES = (
    "android.app.ContextImpl.enforce(ContextImpl.java:2240)",
    "android.app.ContextImpl.enforceCallingOrSelfPermission(ContextImpl.java:2268)",
    "com.android.server.pm.PackageManagerService$IPackageManagerImpl.clearApplicationUserData(PackageManagerService.java:4612)",
    "com.android.server.pm.PackageManagerShellCommand.runClear(PackageManagerShellCommand.java:2573)",
    "com.android.server.pm.PackageManagerShellCommand.onCommand(PackageManagerShellCommand.java:276)",
)
SESSION_ID = 1_358_254_097  # the install session PackageInstaller names its staging directory after


def _list_packages(ctx: Ctx, args: list[str]) -> int:
    flags = {a for a in args if a.startswith("-")}
    rest = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "--user")]
    needle = rest[0] if rest else ""
    for pkg in ctx.phone.state.packages:
        if ("-3" in flags and pkg.system) or ("-s" in flags and not pkg.system) or needle not in pkg.name:
            continue
        version = f" versionCode:{pkg.version_code}" if "--show-versioncode" in flags else ""
        ctx.out((f"package:{pkg.path}={pkg.name}" if "-f" in flags else f"package:{pkg.name}") + version + "\n")
    return 0


def _install(ctx: Ctx, args: list[str]) -> int:
    paths = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] not in ("-S", "-i", "--user"))]
    streamed = "-S" in args
    fs = ctx.phone.state.fs
    if streamed:
        data = ctx.stdin
    else:
        if not paths:
            raise CommandError("Error: must either specify a package size or an APK file", 255)
        norm = ctx.resolve(paths[0])
        if not fs.exists(norm):
            raise CommandError(java_exception("install", f"java.lang.IllegalArgumentException: Error: Can't open file: "
                                              f"{paths[0]}", ("com.android.server.pm.PackageManagerShellCommand."
                                                              "setParamsSize(PackageManagerShellCommand.java:605)",
                                                              )).rstrip("\n"), 255)
        data = fs.read(norm)
        ctx.out("Performing Streamed Install\n")  # a streamed install's client prints this itself
    if not ctx.phone.state.usb_install:
        ctx.out("Failure [INSTALL_FAILED_USER_RESTRICTED: Install canceled by user]\n")
        return 1
    info = parse_apk(data)
    session = f"/data/app/vmdl{SESSION_ID}.tmp/base.apk"
    if info is None:
        ctx.out(f"Failure [INSTALL_PARSE_FAILED_NOT_APK: Failed parse during installPackageLI: {session} "
                f"(at Binary XML file line #-1): Failed to parse {session}]\n")
        return 1
    packages = ctx.phone.state.packages
    existing = next((p for p in packages if p.name == info.package), None)
    if existing is not None and existing.system:
        ctx.out(f"Failure [INSTALL_FAILED_UPDATE_INCOMPATIBLE: Existing package {info.package} signatures do not "
                "match newer version; ignoring!]\n")
        return 1
    if existing is not None:
        packages.remove(existing)
    path = existing.path if existing is not None else \
        f"/data/app/~~{token(info.package + 'install')}==/{info.package}-{token(info.package)}==/base.apk"
    fs.write(path, data)
    packages.append(Package(info.package, path, info.version_name, info.version_code, system=False))
    ctx.out("Success\n")
    return 0


def _resolve_activity(ctx: Ctx, args: list[str]) -> int:
    from ..screens import LAUNCHERS

    pkg = _package_arg(args, "resolve-activity")
    factory = LAUNCHERS.get(pkg)
    if factory is None:
        ctx.out("No activity found\n")
        return 0
    screen = factory(ctx.phone)
    ctx.out("priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=true\n"
            f"{short_component(screen.package, screen.activity)}\n")
    return 0


def pm(ctx: Ctx, args: list[str]) -> int:
    if not args:
        raise CommandError("usage: pm path|list|install|uninstall|clear|grant|revoke ...", 1)
    verb, rest = args[0], args[1:]
    state = ctx.phone.state
    if verb == "list":
        what = rest[0] if rest else ""
        if what == "packages":
            return _list_packages(ctx, rest[1:])
        if what == "users":
            ctx.out("Users:\n\tUserInfo{0:Owner:c13} running\n")
            return 0
        raise CommandError(f"Error: unknown list type '{what}'", 255)
    if verb == "path":
        pkg = _package_arg(rest, verb)
        found = [p for p in state.packages if p.name == pkg]
        if not found:
            return 1
        ctx.out(f"package:{found[0].path}\n")
        return 0
    if verb in ("dump",):
        return ctx.session.run_argv(["dumpsys", "package", _package_arg(rest, verb)], ctx)
    if verb == "install":
        return _install(ctx, rest)
    if verb == "resolve-activity":
        return _resolve_activity(ctx, rest)
    if verb == "clear":
        pkg = _package_arg(rest, verb)
        if not gate_open(ctx.phone):
            raise CommandError(java_exception(
                verb, f"java.lang.SecurityException: PID 28418 does not have permission "
                      f"android.permission.CLEAR_APP_USER_DATA to clear data of package {pkg}", _PM_FRAMES).rstrip("\n"), 255)
        if not any(p.name == pkg for p in state.packages):
            ctx.out("Failed\n")
            return 1
        ctx.phone.force_stop(pkg)
        ctx.out("Success\n")
        return 0
    if verb in ("grant", "revoke"):
        if len(rest) < 2:
            raise CommandError(f"Error: no permission specified for {verb}", 255)
        if not gate_open(ctx.phone):
            permission = "GRANT_RUNTIME_PERMISSIONS" if verb == "grant" else "REVOKE_RUNTIME_PERMISSIONS"
            raise CommandError(java_exception(
                verb, f"java.lang.SecurityException: {verb}RuntimePermission: Neither user 2000 nor current process "
                      f"has android.permission.{permission}.", _PM_FRAMES[:2]).rstrip("\n"), 255)
        return 0
    if verb == "uninstall":
        pkg = _package_arg(rest, verb)
        found = [p for p in state.packages if p.name == pkg]
        if not found or (found[0].system and "--user" not in rest):
            ctx.out("Failure [DELETE_FAILED_INTERNAL_ERROR]\n")
            return 1
        ctx.phone.force_stop(pkg)
        state.packages.remove(found[0])
        if state.fs.exists(found[0].path):
            state.fs.remove(found[0].path)
        forget_package(ctx.phone, pkg)
        ctx.out("Success\n")
        return 0
    raise CommandError(f"Unknown command: {verb}", 255)


COMMANDS = {"am": am, "monkey": monkey, "pm": pm}
