"""The grant letter (deltager/pdf/grant_letter.py): the department's wording, the grant's facts."""

from __future__ import annotations

import io

from pypdf import PdfReader

from deltager.pdf.grant_letter import GrantLetter, LetterLine, grant_letter_pdf, load_template, template_problems


def make_letter(**changes: object) -> GrantLetter:
    values: dict[str, object] = dict(
        reference="T-2026-0007", round_title="Godt naboskab 2026", grantee_name="Fatima Hassan",
        project_title="Lektiehjælp i kælderen", vote_date="4. december 2026", amount_ore=1_850_000,
        purpose="Lektiehjælp to gange om ugen for børn i opgang 3–7, med frugt og materialer.",
        lines=[LetterLine("Frugt og saft", 600_000), LetterLine("Bøger og papir", 1_250_000)],
        payout_mode="receipts", deadline="4. december 2027", children=True,
        contact="Sagsbehandler Jens Holm, 87 65 43 21, deltagerbudget@kommune.dk",
        sender="Socialforvaltningen", letter_date="5. december 2026")
    values.update(changes)
    return GrantLetter(**values)  # type: ignore[arg-type]


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_letter_states_amount_purpose_lines_and_conditions() -> None:
    text = text_of(grant_letter_pdf(make_letter()))
    for expected in ["Fatima Hassan", "18.500 kr.", "Frugt og saft", "6.000 kr.", "Bøger og papir",
                     "4. december 2027", "kvitteringer", "børneattester", "Jens Holm", "T-2026-0007",
                     "Jeg accepterer betingelserne"]:
        assert expected in text, expected


def test_without_children_there_is_no_certificate_paragraph_and_up_front_reads_as_such() -> None:
    text = text_of(grant_letter_pdf(make_letter(children=False, payout_mode="up_front")))
    assert "børneattest" not in text
    assert "på én gang" in text and "regnskab" in text


def test_the_department_s_own_template_is_used_and_misspelt_placeholders_are_named() -> None:
    template = "# Tilsagn\n\nI får $amount til $project_title. $amuont\n\n$budget_lines\n"
    assert template_problems(template) == ["amuont"]
    assert template_problems(load_template()) == []
    text = text_of(grant_letter_pdf(make_letter(), template))
    assert "I får 18.500 kr. til Lektiehjælp i kælderen. $amuont" in text
    assert "Bøger og papir" in text


def test_a_citizen_s_text_cannot_inject_markup() -> None:
    text = text_of(grant_letter_pdf(make_letter(project_title="<b>Fed</b> & <font size=40>stor</font>")))
    assert "<b>Fed</b> & <font size=40>stor</font>" in text
