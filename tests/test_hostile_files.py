"""Files written and read: `-o` never replaces what is not a regular file, write errors are one
line, and a `latex:` display name cannot make TeX read a file."""

from __future__ import annotations

import os
import resource
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pathgrad.errors import SpecError
from pathgrad.output import OutputError, write_file
from pathgrad.spec import load
from pathgrad.spec.texnames import tex_problem

ROOT = Path(__file__).resolve().parents[1]
QUESTION = str(ROOT / "examples" / "question.yaml")


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pathgrad", *args], capture_output=True,
                          text=True, cwd=ROOT, **kw)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_o_refuses_a_fifo_and_leaves_it(tmp_path):
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    line = one_error_line(run("explain", QUESTION, "-w", "w11", "-f", "json", "-o", str(fifo)))
    assert "is a FIFO" in line
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]  # no temp file left


@pytest.mark.parametrize("target", ["/proc/self/fd/1", "real.txt"])
def test_o_refuses_a_symlink_and_leaves_it(tmp_path, target):
    (tmp_path / "real.txt").write_text("keep me")
    link = tmp_path / "out.txt"
    link.symlink_to(target)
    line = one_error_line(run("explain", QUESTION, "-w", "w11", "-o", str(link)))
    assert "is a symbolic link" in line
    assert os.readlink(link) == target
    assert (tmp_path / "real.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "real.txt"]


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device node needs root")
def test_o_refuses_a_private_device_node(tmp_path):
    dev_svg = tmp_path / "pic.svg"
    os.mknod(dev_svg, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null, but our own
    line = one_error_line(run("graph", QUESTION, "-o", str(dev_svg)))
    assert "is a character device" in line
    assert stat.S_ISCHR(os.lstat(dev_svg).st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device node needs root")
def test_stdout_on_a_full_device_is_one_line(tmp_path):
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # a private /dev/full
    for fmt in ("table", "json"):
        with open(full, "w") as out:
            proc = subprocess.run([sys.executable, "-m", "pathgrad", "explain", QUESTION, "-w",
                                   "w11", "-f", fmt], stdout=out, stderr=subprocess.PIPE,
                                  text=True, cwd=ROOT)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip() == ("Error: cannot write to standard output: no space left "
                                       "on the device")


def test_a_file_size_limit_is_one_line_and_leaves_nothing(tmp_path):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))

    out = tmp_path / "big.json"
    proc = run("explain", QUESTION, "-w", "w11", "-f", "json", "-o", str(out),
               preexec_fn=limit)
    assert "file is too large" in one_error_line(proc)
    assert list(tmp_path.iterdir()) == []


def test_o_dash_writes_to_stdout():
    proc = run("explain", QUESTION, "-w", "w11", "-f", "json", "-o", "-")
    assert proc.returncode == 0 and proc.stdout.lstrip().startswith("{")
    assert not (ROOT / "-").exists()


def test_o_over_a_regular_file_keeps_its_mode(tmp_path):
    out = tmp_path / "out.json"
    out.write_text("old")
    out.chmod(0o640)
    write_file(out, "new")
    assert out.read_text() == "new" and stat.S_IMODE(out.stat().st_mode) == 0o640


def test_write_file_refuses_the_protected_file(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("x")
    with pytest.raises(OutputError, match="is the spec itself"):
        write_file(spec, "y", protect=spec)
    assert spec.read_text() == "x"


HOSTILE_NAMES = [
    r"\input{/etc/hostname}", "^^5cinput{/etc/hostname}", r"\include{x}", r"\usepackage{x}",
    r"\csname input\endcsname{x}", r"\openin5=x", r"\read5 to\x", r"\write18{ls}",
    r"\immediate\write18{ls}", r"\catcode`\^^M=13", "w%", "w$", "w#1", "w&", "w~", "w\\\\",
    r"\def\x{y}", r"\let\a\b", r"\expandafter\input", r"\^^5c", "^^^^005c", "w}", "{w", "w_",
    r"\@input", "\\", r"\string\input", r"\lowercase{\input}", "\x00", "w\ny",
]


@pytest.mark.parametrize("tex", HOSTILE_NAMES)
def test_hostile_display_names_are_refused_naming_the_key(tex):
    assert tex_problem(tex) is not None
    text = "params: {w: 1}\nnodes: {E: w^2}\nlatex:\n  w: " + _yaml_quote(tex) + "\n"
    with pytest.raises(SpecError) as info:
        load(text)
    assert "latex.w" in info.value.line()


def _yaml_quote(s: str) -> str:
    return '"' + "".join(f"\\x{ord(c):02x}" if c in '"\\' or not c.isprintable() else c
                         for c in s) + '"'


@pytest.mark.parametrize("tex", [r"w_{1,1}", r"\hat{y}", r"a^{(2)}_{j}", r"\mathrm{out}",
                                 r"\theta_1", "θ_1", r"w'", r"\tilde{x}_{t-1}", r"\alpha\,\beta"])
def test_ordinary_display_names_pass(tex):
    assert tex_problem(tex) is None


@pytest.mark.skipif(shutil.which("pdflatex") is None and not os.environ.get("CI"),
                    reason="pdflatex is not installed")
def test_the_compiled_document_reads_no_local_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRETCONTENT42\n")
    spec = tmp_path / "net.yaml"
    spec.write_text("params: {w: 1}\nnodes: {E: w^2}\nlatex:\n  w: '^^5cinput{"
                    + str(secret) + "}'\n")
    assert one_error_line(run("explain", str(spec), "-w", "w", "-o", str(tmp_path / "a.tex")))
    assert not (tmp_path / "a.tex").exists()
    # the allowed constructs around a file name compile without reading it
    spec.write_text("params: {w: 1}\nnodes: {E: w^2}\nlatex:\n  w: '\\mathrm{"
                    + secret.stem + "}'\n")
    proc = run("explain", str(spec), "-w", "w", "-o", str(tmp_path / "a.tex"))
    assert proc.returncode == 0, proc.stderr
    subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "a.tex"],
                   cwd=tmp_path, capture_output=True, timeout=120)
    log = (tmp_path / "a.log").read_text(errors="replace")
    assert "SECRETCONTENT42" not in log and "secret.txt" not in log
    if (tmp_path / "a.pdf").exists():
        assert b"SECRETCONTENT42" not in (tmp_path / "a.pdf").read_bytes()
