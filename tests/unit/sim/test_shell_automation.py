"""uiautomator2 server launch (a long-running command), uiautomator dump, screencap, ps, reboot."""

import asyncio
import io

from PIL import Image

from miui_automator.sim.phone import Phone
from miui_automator.sim.shell import Shell

LAUNCH = "CLASSPATH=/data/local/tmp/u2.jar app_process / com.wetest.uia2.Main -p 9008"
BOUND = 2.0  # seconds any condition below may take


async def _discard(data: bytes) -> None:
    """A held command's later output, when a test does not look at it."""


def push_jar(phone) -> None:
    phone.state.fs.write("/data/local/tmp/u2.jar", b"PK\x03\x04u2-jar-bytes", mode=0o100755)


async def until(predicate, bound: float = BOUND) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# ----------------------------------------------------------------------------- uiautomator2 server
def test_launch_without_jar_fails(sh, phone):
    result = sh.run(LAUNCH)
    assert result.rc == 1 and result.hold is None
    assert b"Error: Could not find or load main class com.wetest.uia2.Main" in result.combined
    assert not phone.u2_running


def test_launch_runs_until_the_host_closes_the_stream(sh, phone):
    push_jar(phone)

    async def scenario():
        result = sh.run(LAUNCH)
        assert result.rc == 0 and result.hold is not None
        assert b"already registered" not in result.combined
        closed = asyncio.Event()
        task = asyncio.create_task(result.hold(closed, _discard))
        await until(lambda: phone.u2_running)
        second = sh.run(LAUNCH)
        assert second.rc == 1 and second.hold is None
        assert b"already registered" in second.combined
        assert phone.u2_running
        closed.set()
        await asyncio.wait_for(task, BOUND)
        assert not phone.u2_running

    asyncio.run(scenario())


def test_server_crash_ends_the_launch_stream():
    phone = Phone(media_files=0, faults="u2crash=2")
    push_jar(phone)

    async def scenario():
        result = Shell(phone).run(LAUNCH)
        task = asyncio.create_task(result.hold(asyncio.Event(), _discard))
        await until(lambda: phone.u2_running)
        assert phone.u2_call()
        assert not phone.u2_call()  # the fault kills the server on the 2nd call
        await asyncio.wait_for(task, BOUND)  # ... and the launch stream ends with it
        assert not phone.u2_running

    asyncio.run(scenario())


def test_stale_launch_does_not_stop_a_newer_server(sh, phone):
    push_jar(phone)

    async def scenario():
        first = sh.run(LAUNCH)
        first_task = asyncio.create_task(first.hold(asyncio.Event(), _discard))
        await until(lambda: phone.u2_running)
        phone.u2_running = False  # the server crashes, and uiautomator2 relaunches at once,
        second, second_closed = sh.run(LAUNCH), asyncio.Event()  # before the old stream noticed
        second_task = asyncio.create_task(second.hold(second_closed, _discard))
        await asyncio.wait_for(first_task, BOUND)
        await until(lambda: phone.u2_running)
        assert not second_task.done()
        second_closed.set()
        await asyncio.wait_for(second_task, BOUND)
        assert not phone.u2_running

    asyncio.run(scenario())


def test_ps_shows_the_server_while_it_runs(sh, phone):
    push_jar(phone)

    async def scenario():
        closed = asyncio.Event()
        task = asyncio.create_task(sh.run(LAUNCH).hold(closed, _discard))
        await until(lambda: phone.u2_running)
        assert any(line.split()[-1] == "app_process" for line in sh.run("ps -A").stdout.decode().splitlines())
        closed.set()
        await task

    asyncio.run(scenario())
    assert "app_process" not in sh.run("ps -A").stdout.decode()


def test_ps_format_has_nine_fields_and_pids(sh):
    lines = sh.run("ps -A").stdout.decode().splitlines()
    assert lines[0].split() == ["USER", "PID", "PPID", "VSZ", "RSS", "WCHAN", "ADDR", "S", "NAME"]
    assert all(len(line.split()) >= 9 and line.split()[1].isdigit() for line in lines[1:])
    names = [line.split()[-1] for line in lines[1:]]
    assert "com.miui.home" in names and "system_server" in names
    assert len(sh.run("ps").stdout.decode().splitlines()) >= 2
    pid = next(line.split()[1] for line in lines[1:] if line.endswith(" system_server"))
    assert sh.run("pidof system_server").stdout.decode() == pid + "\n"
    assert sh.run("pidof nothing").rc == 1


def test_old_instrumentation_launch_needs_the_test_apk(sh):
    result = sh.run("am instrument -w -r -e debug false -e class com.github.uiautomator.stub.Stub "
                    "com.github.uiautomator.test/androidx.test.runner.AndroidJUnitRunner")
    assert result.rc == 1 and result.hold is None
    assert b"INSTRUMENTATION_FAILED" in result.combined


# ----------------------------------------------------------------------------- uiautomator dump
def test_uiautomator_dump_to_default_file(sh, phone):
    result = sh.run("uiautomator dump")
    text = result.stdout.decode()
    assert text.startswith("java.io.FileNotFoundException: /data/system/theme_config/theme_compatibility.xml")
    assert text.endswith("UI hierchary dumped to: /sdcard/window_dump.xml\n")
    xml = phone.state.fs.read("/sdcard/window_dump.xml").decode()
    assert xml == phone.hierarchy_xml() and xml.startswith("<?xml")


def test_uiautomator_dump_the_adbutils_way(sh, phone):
    out = sh.run("rm -f /data/local/tmp/uidump.xml; uiautomator dump /data/local/tmp/uidump.xml && echo success")
    text = out.combined.decode()
    assert "success" in text and "ERROR" not in text
    assert phone.state.fs.read("/data/local/tmp/uidump.xml").startswith(b"<?xml")


def test_uiautomator_dump_to_tty_has_noise_before_the_xml(sh, phone):
    text = sh.run("uiautomator dump /dev/tty").stdout.decode()
    noise_at = text.index("java.io.FileNotFoundException: /data/system/theme_config/theme_compatibility.xml: "
                          "open failed: ENOENT (No such file or directory)")
    xml_at = text.index("<?xml")
    assert noise_at < xml_at
    assert text[xml_at:].endswith("</hierarchy>UI hierchary dumped to: /dev/tty\n")


def test_uiautomator_dump_screen_off_is_an_error(sh, phone):
    phone.sleep()
    assert b"ERROR: null root node returned by UiTestAutomationBridge." in sh.run("uiautomator dump").combined


# ----------------------------------------------------------------------------- screencap
def test_screencap_png_is_binary_clean(sh, phone):
    png = sh.run("screencap -p").stdout
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png == phone.screenshot("png")
    assert Image.open(io.BytesIO(png)).size == (1080, 2400)


def test_screencap_with_surfaceflinger_display_id(sh):
    display = sh.run("dumpsys SurfaceFlinger --display-id").stdout.split()[1].decode()
    assert sh.run(f"screencap -p -d {display}").stdout.startswith(b"\x89PNG")
    bad = sh.run("screencap -p -d 42")
    assert bad.rc == 1 and bad.stdout == b""


def test_screencap_into_a_file_and_raw(sh, phone):
    assert sh.run("screencap -p /sdcard/shot.png").rc == 0
    assert phone.state.fs.read("/sdcard/shot.png").startswith(b"\x89PNG")
    raw = sh.run("screencap").stdout
    assert raw[:12] == (1080).to_bytes(4, "little") + (2400).to_bytes(4, "little") + (1).to_bytes(4, "little")
    assert len(raw) == 16 + 1080 * 2400 * 4


# ----------------------------------------------------------------------------- reboot / logcat
def test_reboot_drops_off_adb_and_comes_back():
    now = [100.0]
    phone = Phone(media_files=0, clock=lambda: now[0])
    events = []
    phone.subscribe(events.append)
    phone.u2_running = True
    assert Shell(phone).run("reboot").rc == 0
    assert events == ["unplug"] and not phone.plugged and not phone.u2_running
    now[0] += 2.5
    phone.tick()
    assert events == ["unplug", "replug"] and phone.plugged


def test_logcat_dump_returns_and_stream_holds(sh):
    dump = sh.run("logcat -d")
    assert dump.rc == 0 and dump.hold is None and dump.stdout.startswith(b"--------- beginning of main")

    async def scenario():
        stream = sh.run("logcat")
        closed = asyncio.Event()
        task = asyncio.create_task(stream.hold(closed, _discard))
        for _ in range(10):
            await asyncio.sleep(0)
        assert not task.done()  # streams until the host hangs up
        closed.set()
        await asyncio.wait_for(task, BOUND)

    asyncio.run(scenario())
