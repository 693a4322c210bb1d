import pytest

from kasse.domain.klarna_persons import Verdict, otp_accepted, verdict_for


@pytest.mark.parametrize(
    ("email", "last_name", "verdict"),
    [
        ("customer+de@klarna.com", None, Verdict.APPROVED),
        ("customer+de+denied@klarna.com", None, Verdict.DENIED),
        ("Customer+SE+DENIED@klarna.com", None, Verdict.DENIED),
        (None, "Denied", Verdict.DENIED),
        (None, "Mustermann", Verdict.APPROVED),
        (None, None, Verdict.APPROVED),
        ("shop@example.com", "Approved", Verdict.APPROVED),
    ],
)
def test_verdict_follows_klarnas_sample_persons(email: str | None, last_name: str | None, verdict: Verdict) -> None:
    assert verdict_for(email=email, last_name=last_name) is verdict


@pytest.mark.parametrize(("otp", "ok"), [("123456", True), ("000000", True), ("999999", False), ("12345", False),
                                          ("1234567", False), ("12a456", False), ("", False)])  # fmt: skip
def test_any_six_digit_otp_but_999999(otp: str, ok: bool) -> None:
    assert otp_accepted(otp) is ok
