"""Entry point of the `fulcrum` command."""

from __future__ import annotations

import typer

from fulcrum.cli.account import account_app, device_app
from fulcrum.cli.audit import audit_app
from fulcrum.cli.contacts import contact_app
from fulcrum.cli.demo import demo
from fulcrum.cli.forward import forward_command
from fulcrum.cli.matching import bank_app, custodian_app
from fulcrum.cli.messages import group_app, send, sync
from fulcrum.cli.readiness import readiness_app
from fulcrum.cli.reports import report, review_app, reviewer_app
from fulcrum.cli.safety import safety_app
from fulcrum.cli.serve import serve
from fulcrum.cli.simulate import simulate
from fulcrum.cli.trustee import trustee_app
from fulcrum.cli.warrants import evidence_app, judge_app, warrant_app
from fulcrum.cli.witness import witness_app

app = typer.Typer(
    name="fulcrum",
    help="Fulcrum: end-to-end encrypted messaging with public safety designed in.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve)
app.command("demo")(demo)
app.command("send")(send)
app.command("sync")(sync)
app.command("forward")(forward_command)
app.add_typer(account_app, name="account")
app.add_typer(device_app, name="device")
app.add_typer(group_app, name="group")
app.add_typer(bank_app, name="bank")
app.add_typer(custodian_app, name="custodian")
app.add_typer(contact_app, name="contact")
app.add_typer(safety_app, name="safety")
app.add_typer(audit_app, name="audit")
app.add_typer(witness_app, name="witness")
app.command("report")(report)
app.add_typer(review_app, name="review")
app.add_typer(reviewer_app, name="reviewer")
app.command("simulate")(simulate)
app.add_typer(readiness_app, name="readiness")
app.add_typer(trustee_app, name="trustee")
app.add_typer(judge_app, name="judge")
app.add_typer(warrant_app, name="warrant")
app.add_typer(evidence_app, name="evidence")


if __name__ == "__main__":
    app()
