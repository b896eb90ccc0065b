"""``python -m skmnist``: the same as the ``skmnist`` command."""

if __name__ == "__main__":  # not when doctest collection imports this module
    try:
        from .cli import main
    except KeyboardInterrupt:  # Ctrl-C before main() could take the signal over
        import sys

        print("skmnist: interrupted; nothing was written.", file=sys.stderr)
        raise SystemExit(130) from None
    raise SystemExit(main())
