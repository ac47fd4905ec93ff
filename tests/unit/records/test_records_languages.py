"""The session record in the therapist's language (issue 16 part 3): the room's own
lines are written in the therapist's account language when the record is built, the
record PDF and the check-in sheet put their headings, labels and dates in the reader's
language, and what people wrote (names, notes) is kept as written. Acceptance: "the
session record ... in both languages, with text extractable" (pdftotext)."""
import pytest

from activities.contract.i18n import ENGLISH, Catalogs
from activities.registry import build_registry
from rooms.records import charts, documents
from rooms.records import service as records
from rooms.web.i18n import domains
from tests.pdftools import pdf_text
from tests.support import ROOT
from tests.unit.record_session import T0, scripted_session


@pytest.fixture(scope="module")
def catalogs():
    return Catalogs([(folder, domain) for domain, folder, _ in domains()])


@pytest.fixture
def registry():
    return build_registry()


@pytest.fixture
def people(storage, room_id):
    room = storage.get_room(room_id)
    child = storage.create_participant(room_id, "child", "Sam", "fox")
    parent = storage.create_participant(room_id, "parent", "Alex", "owl")
    return {"therapist": f"th-{room['therapist_id']}", "child": child["id"],
            "parent": parent["id"]}


def record_in(lang, storage, room_id, registry, people, catalogs):
    """A finished session's record, built by a service whose storage says the
    therapist's account language is `lang` (None: the storage cannot say)."""
    if lang is not None:
        storage.get_language = lambda therapist_id: lang
    service = records.RecordService(storage, registry, ROOT, translator=catalogs.translator)
    s = scripted_session(storage, room_id, registry, people)
    return service.close_session(room_id, 1, storage.last_seq(room_id), s.states)


def lines(rec):
    return [(e["who"], e["text"]) for e in rec["timeline"] if e["activity"] == "room"]


def squash(text):
    return " ".join(text.split())


def test_a_spanish_speaking_therapists_record_is_written_in_spanish(storage, room_id, registry,
                                                                    people, catalogs):
    rec = record_in("es", storage, room_id, registry, people, catalogs)
    got = lines(rec)
    assert got[0] == (None, "Comenzó la sesión")
    assert ("Sam", "entró") in got                       # the child's name as written
    assert got[-1][1] == "terminó la sesión"
    assert not any(text in ("Session started", "joined", "ended the session") for _, text in got)


def test_without_an_account_language_the_record_stays_english(storage, room_id, registry,
                                                             people, catalogs):
    assert not hasattr(storage, "get_language") or storage.get_language("x") in (None, "en")
    rec = record_in(None, storage, room_id, registry, people, catalogs)
    assert lines(rec)[0] == (None, "Session started")
    assert ("Sam", "joined") in lines(rec)


def test_settings_and_permissions_read_as_whole_spanish_sentences(registry, catalogs):
    es = catalogs.translator("es")
    ops = [{"seq": 1, "by": "th-1", "a": "room", "t": "settings", "kind": "do", "ts": T0,
            "d": {"lock": True, "at": T0, "perms": {"child": {"switch": False}, "parent": {"switch": True}}}},
           {"seq": 2, "by": "th-1", "a": "room", "t": "admit", "kind": "do", "ts": T0,
            "d": {"pid": "nobody", "at": T0}}]
    tl = records.build_timeline(ops, [{"id": "th-1", "name": "Dra. Ruiz", "role": "therapist"}],
                                registry, tr=es)
    assert [records.entry_line(e) for e in tl] == [
        "Dra. Ruiz cerró la sala (nadie más puede entrar)",
        "Dra. Ruiz ya no deja al niño o la niña cambiar de actividad",
        "Dra. Ruiz dejó a la madre o el padre cambiar de actividad",
        "Dra. Ruiz dejó entrar a alguien"]


def test_the_record_pdf_in_spanish_and_in_english_with_text_extractable(storage, room_id, registry,
                                                                       people, catalogs):
    rec = record_in("es", storage, room_id, registry, people, catalogs)
    rec["safety"] = {"location": "casa de la abuela", "contact_name": "Rosa"}
    notes = [{"text": "Sam dijo: “I was brave”", "created_at": T0, "updated_at": T0}]
    es = squash(pdf_text(records.record_pdf(rec, [], notes, tr=catalogs.translator("es"))))
    assert f"Registro de sesión — {rec['room_name']}" in es
    assert "Cronología" in es and "Notas privadas" in es
    assert "Con: " in es and "Sam (Niño o niña)" in es and "Alex (Madre o padre)" in es
    assert "Dónde estaba el niño o la niña: casa de la abuela" in es
    assert "jun 2025" in es                                  # the date in Spanish
    assert "Comenzó la sesión" in es and "Sam entró" in es
    assert "Sam dijo: “I was brave”" in es                   # the note as written
    assert "Timeline" not in es and "Private notes" not in es and "With:" not in es
    en = squash(pdf_text(records.record_pdf(rec, [], notes, tr=ENGLISH)))
    assert f"Session record — {rec['room_name']}" in en
    assert "Timeline" in en and "Private notes" in en and "Sam (Child)" in en
    assert "Child was at: casa de la abuela" in en and "Jun 2025" in en
    assert "Sam dijo: “I was brave”" in en


def test_the_checkin_sheet_in_spanish_with_a_plural(catalogs):
    entries = [{"value": 2, "at": T0 + 15, "moment": "start"}, {"value": 5, "at": T0 + 900, "moment": "end"}]
    sessions = [{"started_at": T0, "ended_at": T0 + 1000}]
    es = squash(pdf_text(documents.checkin_sheet_pdf("Sam, 7", entries, sessions,
                                                     tr=catalogs.translator("es"))))
    assert "Estados de ánimo — Sam, 7" in es and "2 registros de ánimo del" in es
    assert "comienzo: 2 de 5, mal" in es and "final: 5 de 5, súper bien" in es
    one = squash(pdf_text(documents.checkin_sheet_pdf("Sam, 7", entries[:1], sessions,
                                                      tr=catalogs.translator("es"))))
    assert "1 registro de ánimo del" in one
    en = squash(pdf_text(documents.checkin_sheet_pdf("Sam, 7", entries, sessions)))
    assert "2 check-ins from" in en and "start: 2 of 5, upset" in en


def test_the_charts_say_their_words_in_spanish(catalogs):
    es = catalogs.translator("es")
    cols = [{"label": "15 Jun", "started_at": T0, "ended_at": T0 + 1000, "start": 2, "end": 5,
             "during": [], "home": []}]
    svg = str(charts.checkin_chart(cols, tr=es))
    assert "Estados de ánimo de la última sesión" in svg
    assert "comienzo 2 de 5 (mal)" in svg and "jun" in svg and "Jun" not in svg
    assert "Check-ins over the last session" in str(charts.checkin_chart(cols))


def test_the_prompt_chart_counts_in_spanish(catalogs):
    grid = {"title": "Mañana", "steps": ["Despertar", "Lavarse"], "levels": ["independent", "verbal"],
            "columns": [{"label": "15 Jun", "started_at": T0}], "cells": [["independent"], [None]],
            "independent": [1]}
    svg = str(charts.prompt_chart(grid, "p0", tr=catalogs.translator("es")))
    assert "Niveles de ayuda por paso: Mañana" in svg
    assert "Pasos hechos sin ayuda por sesión: 15 jun: 1 de 2." in svg
    assert "Paso 2, Lavarse: sin nivel." in svg
