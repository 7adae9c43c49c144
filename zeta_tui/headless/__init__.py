"""Commands for scripts and bastion hosts: `zeta check`, `zeta promql`, `zeta config`, `zeta contexts`.

Each ``run_*`` takes the argparse Namespace and returns an exit code; ZetaErrors propagate to
cli.main, which prints them and exits with their code (2 for configuration errors).
"""
