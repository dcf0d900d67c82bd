"""The `emu` command line, run as a user runs it: in a subprocess."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HELLO = ROOT / "programs" / "hello.s"


def emu_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "emu", *args], capture_output=True, cwd=kw.pop("cwd", ROOT),
                          timeout=120, **kw)


def test_run_assembly_file_prints_guest_output_and_returns_its_status():
    result = emu_cli("run", str(HELLO))
    assert result.returncode == 0
    assert result.stdout == (ROOT / "programs" / "hello.expected").read_bytes()


def test_run_passes_arguments_and_reports_stats(tmp_path):
    source = tmp_path / "argc.s"
    source.write_text(".globl _start\n_start:\n lw a0, 0(sp)\n li a7, 93\n ecall\n")
    result = emu_cli("run", "--stats", str(source), "--", "one", "two")
    assert result.returncode == 3
    stats = result.stderr.decode()
    assert "sim_insts" in stats and "host_mips" in stats


def test_asm_then_run_the_elf(tmp_path):
    out = tmp_path / "hello.elf"
    assert emu_cli("asm", str(HELLO), "-o", str(out)).returncode == 0
    assert out.read_bytes()[:4] == b"\x7fELF"
    assert emu_cli("run", str(out)).stdout == (ROOT / "programs" / "hello.expected").read_bytes()


@pytest.mark.parametrize("args, message", [
    (["run", "/nonexistent/prog.elf"], "cannot read"),
    (["run", "--config", "memory_size=12", str(HELLO)], "bad configuration"),
    (["run", str(ROOT / "README.md")], "not an ELF"),
])
def test_errors_are_one_line_without_traceback(args, message):
    result = emu_cli(*args)
    err = result.stderr.decode()
    assert result.returncode == 1
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_assembly_errors_are_reported_with_location(tmp_path):
    bad = tmp_path / "bad.s"
    bad.write_text("_start:\n  addi a0, a0\n  frob a1\n")
    result = emu_cli("run", str(bad))
    err = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" not in err
    assert f"{bad}:2:" in err and f"{bad}:3:" in err


def test_guest_fault_exit_status_is_128_plus_signal(tmp_path):
    source = tmp_path / "segv.s"
    source.write_text(".globl _start\n_start:\n lw a0, 0(zero)\n")
    result = emu_cli("run", str(source))
    assert result.returncode == 128 + signal.SIGSEGV
    assert b"SIGSEGV" in result.stderr


def test_ctrl_c_stops_cleanly_with_stats(tmp_path):
    source = tmp_path / "forever.s"
    source.write_text(".globl _start\n_start:\n j _start\n")
    proc = subprocess.Popen([sys.executable, "-m", "emu", "run", "--stats", str(source)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)  # past interpreter start-up, so the handler is installed
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGINT
    assert b"interrupted" in err and b"sim_insts" in err and b"Traceback" not in err


def test_python_dash_m_and_console_script_agree():
    script = Path(sys.executable).with_name("emu")
    if not script.exists():
        pytest.skip("console script not installed next to this interpreter")
    result = subprocess.run([str(script), "run", str(HELLO)], capture_output=True, timeout=60,
                            env={**os.environ})
    assert result.stdout == emu_cli("run", str(HELLO)).stdout


def test_caches_flag_reports_cache_stats_under_gem5_like_names():
    result = emu_cli("run", "--cpu", "ooo", "--caches", "--stats", str(HELLO))
    assert result.returncode == 0
    err = result.stderr.decode()
    for name in ("caches.l1d.overallMisses", "caches.l2.overallHits", "caches.dram.reads",
                 "caches.amat", "cpu.ipc"):
        assert name in err
    functional = emu_cli("run", "--caches", "--stats", str(HELLO))     # timed, in order
    assert functional.returncode == 0 and b"caches.l1i.overallMisses" in functional.stderr


def test_config_reaches_the_parts_by_dotted_names():
    ok = emu_cli("run", "-c", "mmu.dtlb_entries=8", "-c", "mmu.dtlb_ways=8", "-c",
                 "devices.link.latency=5", "-c", "core.rob_entries=64", str(HELLO))
    assert ok.returncode == 0 and ok.stdout == b"Hello, world!\n"
    for item, message in (("mmu.dtlb_entries=7", b"bad configuration: mmu: dtlb"),
                          ("devices.link.loss=2", b"bad configuration: devices.link: loss"),
                          ("bogus.x=1", b"unknown field 'bogus.x'"),
                          ("devices=1", b"unknown field 'devices'")):
        refused = emu_cli("run", "-c", item, str(HELLO))
        assert refused.returncode == 1 and message in refused.stderr, item
        assert b"Traceback" not in refused.stderr
    missing = emu_cli("run", "-c", "devices.block_image=/nonexistent/disk.img", str(HELLO))
    assert missing.returncode == 1
    assert missing.stderr.startswith(b"emu: error: cannot open /nonexistent/disk.img:")


def test_a_block_image_of_the_wrong_size_is_one_clear_error(tmp_path):
    image = tmp_path / "odd.img"
    image.write_bytes(b"x" * 100)
    result = emu_cli("run", "-c", f"devices.block_image={image}", str(HELLO))
    assert result.returncode == 1
    assert result.stderr.startswith(b"emu: error: cannot build the machine: ")
    assert b"512" in result.stderr and b"Traceback" not in result.stderr
