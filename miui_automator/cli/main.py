"""Entry point of ``miui-automator``: the click group, and the ONE place where errors become
exit codes (README, "Exit codes"): 0 done, 1 step/verification failed, 2 usage/config/flow error,
3 device or connection error, 130 interrupted. Every failure prints one line, never a traceback.
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from .. import secret_env
from ..errors import MiuiAutomatorError
from ..privacy import mask_text


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="miui-automator")
def cli() -> None:
    """Drive Xiaomi phones (MIUI 12-14, HyperOS 1-2) over ADB through screenshot-verified flows."""


def _register() -> None:
    from . import account, backup, demo, devices, fleet, flows, screens, sim

    cli.add_command(sim.sim)
    cli.add_command(account.account)
    cli.add_command(fleet.fleet)
    cli.add_command(backup.backup)
    cli.add_command(demo.demo_cmd)
    cli.add_command(devices.devices_cmd)
    cli.add_command(screens.screens)
    for command in (flows.inspect_cmd, flows.flows_cmd, flows.validate_cmd, flows.run_cmd, flows.report_cmd):
        cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return (and exit with) the exit code."""
    secret_env.withdraw()  # first of all: no child process may inherit a password from our environment
    try:
        result = cli.main(args=argv, prog_name="miui-automator", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except MiuiAutomatorError as err:
        click.echo(f"error: {mask_text(str(err))}", err=True)  # an error may quote the screen: the account id on it
        code = err.exit_code
    except click.exceptions.Exit as exit_:
        code = exit_.exit_code
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        code = 130
    except click.UsageError as err:
        where = err.ctx.command_path if err.ctx is not None else "miui-automator"
        click.echo(f"error: {err.format_message()} (see `{where} --help`)", err=True)
        code = 2
    except click.ClickException as err:
        click.echo(f"error: {err.format_message()}", err=True)
        code = err.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        code = 130
    if argv is None:
        sys.exit(code)
    return code


if __name__ == "__main__":
    main()
