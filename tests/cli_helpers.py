"""What the CLI tests share: tiny data settings and an in-process run."""

from skmnist import cli


def tiny(max_iter=2):
    """Arguments for a run of seconds: 200 embedded training, 100 test images."""
    return [
        "--source",
        "embedded",
        "--n-train",
        "200",
        "--n-test",
        "100",
        "--max-iter",
        str(max_iter),
    ]


def run(capsys, *argv):
    """``skmnist *argv`` in this process: ``(status, stdout, stderr)``."""
    status = cli.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err
