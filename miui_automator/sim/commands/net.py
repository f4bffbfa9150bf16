"""The phone's network as the shell shows it: ``ip addr``/``ip route``, toybox ``ifconfig``, and
``nc`` to a local port (which reaches the host through an ``adb reverse`` rule).

A MIUI phone on Wi-Fi has ``lo`` and ``wlan0`` up (``rmnet_data*`` only with mobile data).
The address is stable per phone (from its serial number) so a tool that reads it (adbutils'
``wlan_ip``, which tries ``ifconfig wlan0`` then ``ip addr show dev wlan0``) always gets the same.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass

from ..reverse import table_for
from .base import CommandError, Ctx

SUBNET = "192.168.31"  # a Xiaomi router's default LAN


@dataclass(frozen=True)
class Wlan:
    ip: str
    mac: str
    ip6: str

    @property
    def gateway(self) -> str:
        return f"{SUBNET}.1"


def wlan(phone) -> Wlan:
    seed = zlib.crc32(phone.state.props.get("ro.serialno", "").encode())
    host = 100 + seed % 150
    octets = [0x02 | (seed & 0xFC), (seed >> 8) & 0xFF, (seed >> 16) & 0xFF, (seed >> 24) & 0xFF, host, 0x5E]
    mac = ":".join(f"{o:02x}" for o in octets)
    eui = [octets[0] ^ 0x02] + octets[1:3] + [0xFF, 0xFE] + octets[3:]
    ip6 = "fe80::" + ":".join(f"{eui[i]:02x}{eui[i + 1]:02x}".lstrip("0") or "0" for i in range(0, 8, 2))
    return Wlan(f"{SUBNET}.{host}", mac, ip6)


def _ip_addr(phone, iface: str | None) -> str:
    w = wlan(phone)
    blocks = {
        "lo": ("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n"
               "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
               "    inet 127.0.0.1/8 scope host lo\n"
               "       valid_lft forever preferred_lft forever\n"
               "    inet6 ::1/128 scope host \n"
               "       valid_lft forever preferred_lft forever\n"),
        "wlan0": ("37: wlan0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 3000\n"
                  f"    link/ether {w.mac} brd ff:ff:ff:ff:ff:ff\n"
                  f"    inet {w.ip}/24 brd {SUBNET}.255 scope global wlan0\n"
                  "       valid_lft forever preferred_lft forever\n"
                  f"    inet6 {w.ip6}/64 scope link \n"
                  "       valid_lft forever preferred_lft forever\n"),
    }
    if iface is None:
        return "".join(blocks.values())
    if iface not in blocks:
        raise CommandError(f'Device "{iface}" does not exist.', 1)
    return blocks[iface]


def ip(ctx: Ctx, args: list[str]) -> int:
    args = [a for a in args if a not in ("-4", "-6")]
    if not args:
        raise CommandError("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n"
                           "where  OBJECT := { address | link | neighbour | route | rule }", 255)
    obj, rest = args[0], args[1:]
    if "address".startswith(obj) or obj == "addr":
        if rest[:1] in (["show"], ["list"], ["ls"]):
            rest = rest[1:]
        if rest[:1] == ["dev"]:
            rest = rest[1:]
        ctx.out(_ip_addr(ctx.phone, rest[0] if rest else None))
        return 0
    if "route".startswith(obj):
        if rest[:1] in (["show"], ["list"]) or not rest:
            w = wlan(ctx.phone)
            ctx.out(f"{SUBNET}.0/24 dev wlan0 proto kernel scope link src {w.ip} \n")
            return 0
        if rest[0] == "get" and len(rest) > 1:
            w = wlan(ctx.phone)
            ctx.out(f"{rest[1]} via {w.gateway} dev wlan0 table wlan0 src {w.ip} uid 2000 \n    cache \n")
            return 0
    raise CommandError(f'Object "{obj}" is unknown, try "ip help".', 1)


def ifconfig(ctx: Ctx, args: list[str]) -> int:
    w = wlan(ctx.phone)
    blocks = {
        "lo": ("lo        Link encap:Local Loopback  \n"
               "          inet addr:127.0.0.1  Mask:255.0.0.0 \n"
               "          inet6 addr: ::1/128 Scope: Host\n"
               "          UP LOOPBACK RUNNING  MTU:65536  Metric:1\n\n"),
        "wlan0": (f"wlan0     Link encap:Ethernet  HWaddr {w.mac}  Driver cnss_pci\n"
                  f"          inet addr:{w.ip}  Bcast:{SUBNET}.255  Mask:255.255.255.0 \n"
                  f"          inet6 addr: {w.ip6}/64 Scope: Link\n"
                  "          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\n\n"),
    }
    if not args or args[0] == "-a":
        ctx.out("".join(blocks.values()))
        return 0
    if args[0] not in blocks:
        raise CommandError(f"ifconfig: {args[0]}: No such device", 1)
    ctx.out(blocks[args[0]])
    return 0


_LOOPBACK = ("localhost", "127.0.0.1", "::1", "ip6-localhost")


def nc(ctx: Ctx, args: list[str]) -> int:
    """toybox ``nc HOST PORT``: send stdin, print what comes back until the peer closes.

    The only listeners on a phone that the simulator models are ``adb reverse`` rules, so a
    connection to a loopback port goes to the host or is refused.
    """
    rest = []
    it = iter(args)
    for arg in it:
        if arg in ("-q", "-w", "-W", "-p", "-s"):
            next(it, None)
        elif not arg.startswith("-"):
            rest.append(arg)
    if len(rest) != 2 or not rest[1].isdigit():
        raise CommandError("usage: nc [-46Uu] [-pqWw #] [-s addr] {IPADDR PORTNUM|-f FILENAME|COMMAND...}", 1)
    host, port = rest
    table = table_for(ctx.phone)
    remote = f"tcp:{int(port)}"
    if host not in _LOOPBACK or not table.listens(remote):
        raise CommandError("nc: connect: Connection refused", 1)
    data = ctx.stdin

    async def relay(closed: asyncio.Event, write) -> None:
        peer = await table.connect(remote)
        if peer is None:
            return
        closing = asyncio.ensure_future(closed.wait())
        try:
            if data:
                await peer.write(data)
            while True:
                reading = asyncio.ensure_future(peer.read())
                done, _ = await asyncio.wait({reading, closing}, return_when=asyncio.FIRST_COMPLETED)
                if reading not in done:
                    reading.cancel()
                    return
                chunk = reading.result()
                if not chunk:
                    return
                await write(chunk)
        finally:
            closing.cancel()
            await peer.close()

    ctx.hold = relay
    return 0


COMMANDS = {"ip": ip, "ifconfig": ifconfig, "nc": nc, "netcat": nc}
