"""``dumpsys``: the system-service dumps tools parse, in the shape Android 11–15 prints them.

Only the lines someone parses are modelled, but those exactly: adbutils' ``app_current``
reads ``dumpsys window windows`` for ``mCurrentFocus=Window{.. pkg/act}`` (which Android 10+
prints only under ``displays``) then ``mResumedActivity:`` then ``ACTIVITY pkg/act hex pid=N``; ``window_size`` the first ``orientation=N``; ``screenshot`` the ``Display N ``
ids; our tool the keyguard flags, ``Account {name=.., type=com.xiaomi}``, battery and power.
"""

from __future__ import annotations

from ..ui import SCREEN_H, SCREEN_W
from .base import Ctx, local_time, short_component
from .procs import app_uid, app_user, pid_of, token

DISPLAY_ID = "4619827259835644672"  # SurfaceFlinger's physical id of the built-in panel (HWC display 0)
_IDLE_SERVICES = ("meminfo", "cpuinfo", "wifi", "connectivity", "telephony.registry", "usagestats", "deviceidle",
                  "notification", "statusbar", "input", "alarm", "jobscheduler", "appops", "user", "location",
                  "audio", "netstats", "diskstats", "bluetooth_manager", "media.camera", "uimode", "vibrator")


def _tasks(phone) -> list[tuple[int, str, list]]:
    """(task id, package, screens bottom-to-top) — one task per package, in stack order."""
    tasks: dict[str, list] = {}
    for screen in phone.stack:
        tasks.setdefault(screen.package, []).append(screen)
    return [(100 + i, pkg, screens) for i, (pkg, screens) in enumerate(tasks.items())]


def _record(phone, screen) -> str:
    task = next(t for t, pkg, _ in _tasks(phone) if pkg == screen.package)
    name = short_component(screen.package, screen.activity)
    return f"ActivityRecord{{{token(name + str(id(screen)))} u0 {name} t{task}}}"


def _keyguard(phone) -> bool:
    return phone.state.locked or not phone.state.screen_on


def _window_title(package: str, activity: str) -> str:
    return f"{package}/{activity}" if "." in activity else activity


def window(ctx: Ctx, args: list[str]) -> None:
    phone = ctx.phone
    focus_pkg, focus_act = phone.focus()
    top = phone.top
    keyguard = _keyguard(phone)
    awake = phone.state.screen_on
    b = lambda v: "true" if v else "false"  # noqa: E731 - tiny local formatter
    titles = ["StatusBar"] + (["NotificationShade"] if keyguard else [])
    titles.append(_window_title(top.package, top.activity))
    if top.dialog is not None and not keyguard:
        titles.append(_window_title(top.package, top.activity))
    if phone.popup is not None and not keyguard:
        titles.append(phone.popup.package)
    focused = _window_title(focus_pkg, focus_act)
    sections = args[:1] or ["policy", "windows", "displays"]
    if "policy" in sections:
        ctx.out("WINDOW MANAGER POLICY STATE (dumpsys window policy)\n"
                "    mSafeMode=false mSystemReady=true mSystemBooted=true\n"
                f"    mLidState=LID_ABSENT mAwake={b(awake)} mScreenOnEarly={b(awake)} mScreenOnFully={b(awake)}\n"
                "    mKeyguardDrawComplete=true mWindowManagerDrawComplete=true\n"
                f"    mShowingLockscreen={b(keyguard)} mShowingDream=false mDreamingLockscreen={b(keyguard)} "
                "mDreamingSleepToken=null\n"
                f"    mStatusBar=Window{{{token('StatusBar')} u0 StatusBar}} isStatusBarKeyguard={b(keyguard)}\n"
                "    KeyguardServiceDelegate\n"
                f"      showing={b(keyguard)}\n"
                f"      inputRestricted={b(keyguard)}\n"
                f"      secure={b(keyguard)}\n"
                f"      interactiveState={'INTERACTIVE_STATE_AWAKE' if awake else 'INTERACTIVE_STATE_SLEEP'}\n\n")
    if "windows" in sections:
        ctx.out("WINDOW MANAGER WINDOWS (dumpsys window windows)\n")
        for i, title in enumerate(reversed(titles)):
            pkg = title.split("/")[0] if "/" in title else (
                "com.android.systemui" if title in ("StatusBar", "NotificationShade") else title)
            ctx.out(f"  Window #{i} Window{{{token(title)} u0 {title}}}:\n"
                    f"    mDisplayId=0 rootTaskId=1 mSession=Session{{{token(pkg)} {pid_of(pkg)}:{app_user(pkg)}}}\n"
                    f"    mOwnerUid={app_uid(pkg)} showForAllUsers=false package={pkg} appop=NONE\n"
                    f"    mHasSurface=true isReadyForDisplay()=true mWindowRemovalAllowed=false\n")
        ctx.out("\n  mGlobalConfiguration={1.0 ?mcc?mnc [en_US] ldltr sw392dp w392dp h872dp 440dpi nrml long port}\n"
                "  mHasPermanentDpad=false\n"
                "  mTopFocusedDisplayId=0\n\n")
    if "displays" in sections:
        # Android 10+ prints the focus per display, not in the window list: tools that read
        # `dumpsys window windows` for it fall back to `dumpsys activity top`, which has the pid.
        ctx.out("WINDOW MANAGER DISPLAY CONTENTS (dumpsys window displays)\n"
                "  Display: mDisplayId=0 rootTasks=1\n"
                f"    init={SCREEN_W}x{SCREEN_H} 440dpi cur={SCREEN_W}x{SCREEN_H} app={SCREEN_W}x{SCREEN_H} "
                f"rng={SCREEN_W}x{SCREEN_W}-{SCREEN_H}x{SCREEN_H}\n"
                f"  mCurrentFocus=Window{{{token(focused)} u0 {focused}}}\n"
                f"  mFocusedApp={_record(phone, top)}\n")


def activity(ctx: Ctx, args: list[str]) -> None:
    phone = ctx.phone
    what = args[0] if args else "activities"
    top = phone.top
    if what == "top":
        task = next(t for t, pkg, _ in _tasks(phone) if pkg == top.package)
        name = short_component(top.package, top.activity)
        ctx.out(f"TASK {app_uid(top.package)}:{top.package} id={task} userId=0\n"
                f"  ACTIVITY {name} {token(name + str(id(top)))} pid={pid_of(top.package)}\n"
                f"    Local FragmentActivity {token(name)} State:\n"
                f"      mCreated=true mResumed={'false' if _keyguard(phone) else 'true'} mStopped=false\n")
        return
    if what not in ("activities", "a"):
        ctx.out(f"ACTIVITY MANAGER {what.upper()} (dumpsys activity {what})\n")
        return
    ctx.out("ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)\n"
            "Display #0 (activities from top to bottom):\n")
    for task, pkg, screens in reversed(_tasks(phone)):
        ctx.out(f"  * Task{{{token(pkg)} #{task} type={'home' if pkg == 'com.miui.home' else 'standard'} "
                f"A={app_uid(pkg)}:{pkg} U=0 visible={'true' if pkg == top.package else 'false'} "
                f"mode=fullscreen translucent=false sz={len(screens)}}}\n")
        for n, screen in reversed(list(enumerate(screens))):
            ctx.out(f"    * Hist  #{n}: {_record(phone, screen)}\n")
    ctx.out(f"\n  ResumedActivity: {_record(phone, top)}\n"
            f"  mResumedActivity: {_record(phone, top)}\n"
            f"  mFocusedApp={_record(phone, top)}\n"
            f"  mLastPausedActivity: null\n")


def display(ctx: Ctx, args: list[str]) -> None:
    on = "ON" if ctx.phone.state.screen_on else "OFF"
    density = ctx.phone.state.props.get("ro.sf.lcd_density", "440")
    ctx.out("DISPLAY MANAGER (dumpsys display)\n"
            "  mOnlyCore=false\n  mSafeMode=false\n  mPendingTraversal=false\n"
            f"  mViewports=[DisplayViewport{{type=INTERNAL, valid=true, isActive=true, displayId=0, "
            f"uniqueId='local:{DISPLAY_ID}', physicalPort=0, orientation=0, logicalFrame=Rect(0, 0 - {SCREEN_W}, "
            f"{SCREEN_H}), physicalFrame=Rect(0, 0 - {SCREEN_W}, {SCREEN_H}), deviceWidth={SCREEN_W}, "
            f"deviceHeight={SCREEN_H}}}]\n"
            "  mDefaultDisplayDefaultColorMode=0\n\n"
            f"Display States: size=1\n  Display Id=0\n  Display State={on}\n  Display Brightness=0.5\n\n"
            "Display Devices: size=1\n"
            f"  DisplayDeviceInfo{{\"Built-in Screen\": uniqueId=\"local:{DISPLAY_ID}\", {SCREEN_W} x {SCREEN_H}, "
            f"modeId 1, defaultModeId 1, supportedModes [{{id=1, width={SCREEN_W}, height={SCREEN_H}, fps=120.0}}], "
            f"density {density}, 394.0 x 394.0 dpi, appVsyncOff 1000000, presDeadline 8333333, touch INTERNAL, "
            f"rotation 0, type INTERNAL, address {{port=0, model=0x0}}, state {on}, FLAG_DEFAULT_DISPLAY, "
            "FLAG_ROTATES_WITH_CONTENT, FLAG_SECURE, FLAG_SUPPORTS_PROTECTED_BUFFERS}\n\n"
            "Logical Displays: size=1\n  Display 0:\n    mDisplayId=0\n"
            f"    mBaseDisplayInfo=DisplayInfo{{\"Built-in Screen\", displayId 0, real {SCREEN_W} x {SCREEN_H}, "
            f"largest app {SCREEN_W} x {SCREEN_H}, smallest app {SCREEN_W} x {SCREEN_H}, rotation 0, density {density}, "
            f"state {on}}}\n")


_AUTHENTICATORS = {
    "com.google": "com.google.android.gms/com.google.android.gms.auth.authzen.GoogleAccountAuthenticatorService",
    "com.xiaomi": "com.xiaomi.account/com.xiaomi.passport.accountmanager.AccountAuthenticatorService",
    "com.xiaomi.unactivated": "com.xiaomi.account/com.xiaomi.passport.accountmanager.UnactivatedAccountAuthenticator",
    "com.whatsapp": "com.whatsapp/com.whatsapp.accountsync.AccountAuthenticatorService",
}


def account(ctx: Ctx, args: list[str]) -> None:
    accounts = ctx.phone.state.accounts
    ctx.out("User UserInfo{0:Owner:c13}:\n"
            f"  Accounts: {len(accounts)}\n"
            + "".join(f"    Account {{name={a.name}, type={a.type}}}\n" for a in accounts)
            + "\n  AccountId, Action_Type, timestamp, UID, TableName, Key\n"
            "  Accounts History\n\n  Active Sessions: 0\n\n"
            f"  RegisteredServicesCache: {len(_AUTHENTICATORS)} services\n"
            + "".join(f"    ServiceInfo: AuthenticatorDescription {{type={t}}}, ComponentInfo{{{c}}}, uid 1000\n"
                      for t, c in _AUTHENTICATORS.items()))


def battery(ctx: Ctx, args: list[str]) -> None:
    state = ctx.phone.state
    charging = state.charging and ctx.phone.plugged
    status = 5 if charging and state.battery >= 100 else 2 if charging else 3
    b = lambda v: "true" if v else "false"  # noqa: E731 - tiny local formatter
    ctx.out("Current Battery Service state:\n"
            "  AC powered: false\n"
            f"  USB powered: {b(charging)}\n"
            "  Wireless powered: false\n"
            "  Dock powered: false\n"
            f"  Max charging current: {500000 if charging else 0}\n"
            f"  Max charging voltage: {5000000 if charging else 0}\n"
            f"  Charge counter: {state.battery * 48600}\n"
            f"  status: {status}\n"
            "  health: 2\n"
            "  present: true\n"
            f"  level: {state.battery}\n"
            "  scale: 100\n"
            f"  voltage: {3600 + state.battery * 6}\n"
            "  temperature: 295\n"
            "  technology: Li-poly\n")


def power(ctx: Ctx, args: list[str]) -> None:
    state = ctx.phone.state
    awake = state.screen_on
    b = lambda v: "true" if v else "false"  # noqa: E731 - tiny local formatter
    stay_on = state.settings["global"].get("stay_on_while_plugged_in", "0") != "0"
    ctx.out("POWER MANAGER (dumpsys power)\n\nPower Manager State:\n"
            "  mDirty=0x0\n"
            f"  mWakefulness={'Awake' if awake else 'Asleep'}\n"
            "  mWakefulnessChanging=false\n"
            f"  mIsPowered={b(state.charging)}\n"
            f"  mPlugType={2 if state.charging else 0}\n"
            f"  mBatteryLevel={state.battery}\n"
            f"  mStayOn={b(stay_on and state.charging)}\n"
            "  mProximityPositive=false\n"
            "  mBootCompleted=true\n"
            "  mSystemReady=true\n"
            f"  mHoldingWakeLockSuspendBlocker={b(awake)}\n"
            f"  mHoldingDisplaySuspendBlocker={b(awake)}\n"
            f"  mDisplayReady=true\n\n"
            f"Display Power: state={'ON' if awake else 'OFF'}\n")


def surfaceflinger(ctx: Ctx, args: list[str]) -> None:
    line = f'Display {DISPLAY_ID} (HWC display 0): port=0 pnpId=QCM displayName="Built-in Screen"\n'
    if "--display-id" in args:
        ctx.out(line)
        return
    ctx.out(f"Build configuration: [sf PRESENT_TIME_OFFSET=0 FORCE_HWC_FOR_RBG_TO_YUV=1 MAX_VIRT_DISPLAY_DIM=0 "
            f"RUNNING_WITHOUT_SYNC_FRAMEWORK=0 NUM_FRAMEBUFFER_SURFACE_BUFFERS=3]\n\n{line}"
            f"Display {DISPLAY_ID} HWC layers:\n")


def package(ctx: Ctx, args: list[str]) -> None:
    names = [a for a in args if not a.startswith("-")]
    packages = ctx.phone.state.packages
    chosen = [p for p in packages if p.name in names] if names else packages
    if names and not chosen:
        ctx.out(f"Unable to find package: {names[0]}\n")
        return
    ctx.out("Packages:\n")
    for pkg in chosen:
        installed = local_time(ctx.phone, 1_230_768_000 if pkg.system else 1_749_981_600).strftime("%Y-%m-%d %H:%M:%S")
        flags = "SYSTEM HAS_CODE ALLOW_CLEAR_USER_DATA" if pkg.system else "HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP"
        ctx.out(f"  Package [{pkg.name}] ({token(pkg.name)}):\n"
                f"    userId={app_uid(pkg.name)}\n"
                f"    pkg=Package{{{token(pkg.name + 'pkg')} {pkg.name}}}\n"
                f"    codePath={pkg.path.rsplit('/', 1)[0]}\n"
                f"    resourcePath={pkg.path.rsplit('/', 1)[0]}\n"
                f"    versionCode={pkg.version_code} minSdk=28 targetSdk=33\n"
                f"    versionName={pkg.version_name}\n"
                "    splits=[base]\n    apkSigningVersion=3\n"
                f"    flags=[ {flags} ]\n"
                f"    pkgFlags=[ {flags} ]\n"
                f"    timeStamp={installed}\n"
                f"    firstInstallTime={installed}\n"
                f"    lastUpdateTime={installed}\n"
                f"    signatures=PackageSignatures{{{token(pkg.name + 'sig')} version:3, "
                f"signatures:[{token(pkg.name + 'cert')}], past signatures:[]}}\n"
                "    installPermissionsFixed=true\n"
                "    User 0: ceDataInode=0 installed=true hidden=false suspended=false distractionFlags=0 "
                "stopped=false notLaunched=false enabled=0 instant=false virtual=false\n"
                "      runtime permissions:\n")


def input_method(ctx: Ctx, args: list[str]) -> None:
    ime = ctx.phone.state.settings["secure"].get("default_input_method", "")
    ctx.out("Current Input Method Manager state:\n"
            "  Input Methods: mMethodMapUpdateCount=3 mBindInstantServiceAllowed=false\n"
            f"  mCurMethodId={ime}\n"
            "  mCurFocusedWindowSoftInputMode=STATE_UNSPECIFIED|ADJUST_RESIZE|IS_FORWARD_NAVIGATION\n"
            "  mInputShown=false\n"
            "  mSystemReady=true mInteractive=true\n")


SERVICES = {"window": window, "activity": activity, "display": display, "account": account, "battery": battery,
            "power": power, "SurfaceFlinger": surfaceflinger, "package": package, "input_method": input_method}


def dumpsys(ctx: Ctx, args: list[str]) -> int:
    ctx.phone.tick()
    if not args or args[0] == "-l":
        ctx.out("Currently running services:\n" + "".join(f"  {s}\n" for s in sorted([*SERVICES, *_IDLE_SERVICES])))
        return 0
    service, rest = args[0], args[1:]
    handler = SERVICES.get(service)
    if handler is not None:
        handler(ctx, rest)
    elif service not in _IDLE_SERVICES:
        ctx.err(f"Can't find service: {service}\n")
    return 0


COMMANDS = {"dumpsys": dumpsys}
