"""The workflow on SLURM gives the local run's outputs, byte for byte (`make test-slurm`).

Run inside tools/slurm/with-cluster.sh, which starts a one-node SLURM cluster and sets
SLURM_CONF. From two clean copies of the repository's HEAD (``git archive``, in a
temporary directory; uncommitted changes are not part of the test), each with its own
``src`` first on PYTHONPATH and this virtual environment's Snakemake:

1. the local run: ``snakemake --cores <CPUs>`` (workflow/profiles/default);
2. the SLURM run: ``snakemake --workflow-profile workflow/profiles/slurm`` with the
   options a cluster without an accounting database needs: ``--slurm-status-command
   squeue`` (sacct has no records) and ``--slurm-no-account`` (no account to guess);
3. the SLURM jobs the run submitted, from squeue (the cluster keeps finished jobs):
   as many as the workflow's non-local jobs, all COMPLETED;
4. every file the runs wrote under results/ and figures/: the same names, the same bytes.

Prints one line per step and exits 0 when all hold, 1 otherwise (keeping the copies for
inspection), 2 on bad use.
"""

from __future__ import annotations

import filecmp
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
OUTPUT_DIRS = ("results", "figures")
SLURM_OPTIONS = ("--workflow-profile", "workflow/profiles/slurm",
                 "--slurm-status-command", "squeue", "--slurm-no-account")


def say(message: str) -> None:
    print(f"test-slurm: {message}", flush=True)


def fail(message: str, status: int = 1) -> None:
    say(f"FAILED: {message}")
    sys.exit(status)


def git(*args: str) -> bytes:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True).stdout


def clean_copy(head: str, directory: Path) -> set[str]:
    """Extract the commit `head` into `directory`; the paths it holds (relative, POSIX)."""
    with tarfile.open(fileobj=io.BytesIO(git("archive", "--format=tar", head))) as archive:
        archive.extractall(directory, filter="tar")
        return {member.name for member in archive.getmembers() if member.isfile()}


def snakemake(copy: Path, *options: str) -> tuple[str, float]:
    """Run the workflow in `copy`; its output (stdout and stderr) and wall time in seconds."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(copy / "src"))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "snakemake", *options], cwd=copy, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - start
    (copy / "snakemake.out").write_text(proc.stdout)
    if proc.returncode != 0:
        print(proc.stdout[-6000:])
        fail(f"snakemake {' '.join(options)} exited with {proc.returncode} in {copy} (snakemake.out)")
    return proc.stdout, seconds


def job_counts(output: str) -> tuple[int, int]:
    """(all jobs, local jobs) of a run, from its 'Job stats' total and 'localrule' headers."""
    total = re.search(r"^Job stats:.*?^total\s+(\d+)$", output, re.M | re.S)
    if total is None:
        fail("no 'Job stats' in the SLURM run's output")
    return int(total.group(1)), len(re.findall(r"^localrule \w+:$", output, re.M))


def slurm_jobs() -> dict[str, str]:
    """{job id: state} of every job the cluster knows (finished ones too: MinJobAge)."""
    proc = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i %T"], capture_output=True, text=True)
    if proc.returncode != 0:
        fail(f"squeue: {proc.stderr.strip()}")
    return dict(line.split() for line in proc.stdout.splitlines())


def outputs(copy: Path, tracked: set[str]) -> set[str]:
    """The files a run wrote under results/ and figures/ (not those of the commit, .gitkeep)."""
    return {path.relative_to(copy).as_posix() for top in OUTPUT_DIRS for path in (copy / top).rglob("*")
            if path.is_file()} - tracked


def main() -> None:
    if "SLURM_CONF" not in os.environ:
        fail("SLURM_CONF is not set: run me through tools/slurm/with-cluster.sh (make test-slurm)", 2)
    head = git("rev-parse", "HEAD").decode().strip()
    if git("status", "--porcelain", "--untracked-files=no").strip():
        say(f"note: uncommitted changes are not tested; this tests HEAD {head[:10]}")
    work = Path(tempfile.mkdtemp(prefix="himo-test-slurm-"))
    local, cluster = work / "local", work / "slurm"
    tracked = clean_copy(head, local)
    clean_copy(head, cluster)
    say(f"two clean copies of {head[:10]} in {work}")

    cores = str(os.cpu_count() or 1)
    _, local_seconds = snakemake(local, "--cores", cores)
    say(f"local run: {local_seconds:.0f} s on {cores} cores")

    before = slurm_jobs()
    output, slurm_seconds = snakemake(cluster, *SLURM_OPTIONS)
    submitted = {job: state for job, state in slurm_jobs().items() if job not in before}
    total, local_jobs = job_counts(output)
    completed = sum(state == "COMPLETED" for state in submitted.values())
    say(f"SLURM run: {slurm_seconds:.0f} s; {len(submitted)} jobs ran as SLURM jobs, {completed} COMPLETED "
        f"(the workflow's {total} jobs, {local_jobs} of them local)")
    if not submitted or len(submitted) != total - local_jobs or completed != len(submitted):
        fail(f"expected {total - local_jobs} SLURM jobs, all COMPLETED: {sorted(submitted.items())}")

    names = outputs(local, tracked)
    other = outputs(cluster, tracked)
    if names != other:
        fail(f"the runs wrote different files: only local {sorted(names - other)[:10]}, "
             f"only SLURM {sorted(other - names)[:10]}")
    differ = sorted(name for name in names if not filecmp.cmp(local / name, cluster / name, shallow=False))
    say(f"{len(names) - len(differ)} of {len(names)} outputs identical (every file under "
        f"{' and '.join(d + '/' for d in OUTPUT_DIRS)})")
    if differ:
        fail(f"{len(differ)} outputs differ, e.g. {differ[:10]}; the copies are kept in {work}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
