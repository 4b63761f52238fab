"""Canonical rows: a block's events as string columns, JSON Lines and bad rows."""
from __future__ import annotations

import json

import numpy as np

from seamline.sample.arrays import obj
from seamline.sample.block import Block
from seamline.sample.catalog import (SOURCES, CHANNELS, DIRECTIONS, TYPES, TOPICS, ID_CID, ID_ANON,
    ID_EMAIL, ID_PHONE, ID_EMAIL_RAW, ID_PHONE_RAW, COLUMNS)


def event_columns(blk: Block, E: dict, start_ms: int, id_prefix: str, id_start: int) -> dict:
    n = E["t"].size
    occ = np.datetime_as_string((start_ms + E["t"]).astype("datetime64[ms]"), unit="ms").astype(object) + "Z"
    ing = np.datetime_as_string((start_ms + E["t"] + E["lag"]).astype("datetime64[ms]"),
                                unit="ms").astype(object) + "Z"
    eid = obj([f"{id_prefix}{i:09d}" for i in range(id_start, id_start + n)])
    c = E["cust"]
    ids = E["ids"]
    none = np.full(n, None, dtype=object)

    def pick(bit, arr):
        out = none.copy()
        m = (ids & bit) != 0
        out[m] = arr[c[m]]
        return out

    email = pick(ID_EMAIL, blk.s_email)
    m = (ids & ID_EMAIL_RAW) != 0
    email[m] = blk.s_email_raw[c[m]]
    phone = pick(ID_PHONE, blk.s_phone)
    m = (ids & ID_PHONE_RAW) != 0
    phone[m] = blk.s_phone_raw[c[m]]
    topic = none.copy()
    m = E["topic"] >= 0
    topic[m] = obj(TOPICS)[E["topic"][m]]
    case = none.copy()
    m = E["case"] >= 0
    case[m] = obj([f"case-{x:08d}" for x in E["case"][m]]) if m.any() else case[m]
    return {
        "event_id": eid, "occurred_at": occ, "ingested_at": ing,
        "source": obj(SOURCES)[E["src"]], "channel": obj(CHANNELS)[E["ch"]],
        "direction": obj(DIRECTIONS)[E["dir"]], "type": obj(TYPES)[E["typ"]],
        "customer_id": pick(ID_CID, blk.s_cid), "anonymous_id": pick(ID_ANON, blk.s_anon),
        "email": email, "phone": phone, "topic": topic, "case_id": case, "attrs": E["attrs"],
    }


def jsonl_lines(cols: dict) -> np.ndarray:
    n = cols["event_id"].size
    opt = []
    for k in ("customer_id", "anonymous_id", "email", "phone", "topic", "case_id"):
        v = cols[k]
        m = v != None  # noqa: E711
        frag = np.full(n, "", dtype=object)
        if m.any():
            frag[m] = f',"{k}":"' + v[m] + '"'
        opt.append(frag)
    a = cols["attrs"]
    m = a != None  # noqa: E711
    at = np.full(n, "", dtype=object)
    if m.any():
        at[m] = ',"attrs":' + a[m]
    lines = [
        f'{{"event_id":"{e}","occurred_at":"{o}","ingested_at":"{i}","source":"{s}","channel":"{c}",'
        f'"direction":"{d}","type":"{t}"{f1}{f2}{f3}{f4}{f5}{f6}{f7}}}'
        for e, o, i, s, c, d, t, f1, f2, f3, f4, f5, f6, f7 in zip(
            cols["event_id"].tolist(), cols["occurred_at"].tolist(), cols["ingested_at"].tolist(),
            cols["source"].tolist(), cols["channel"].tolist(), cols["direction"].tolist(),
            cols["type"].tolist(), *(f.tolist() for f in opt), at.tolist())
    ]
    return obj(lines)


BAD_KINDS = ["invalid_json", "missing_source", "bad_time", "unknown_direction", "ces_out_of_range",
             "no_identifier"]


def bad_row(kind: str, base: dict, eid: str, table: bool) -> tuple[dict | None, str | None]:
    row = {k: base[k] for k in COLUMNS}
    row["event_id"] = eid
    if kind == "invalid_json":
        if table:
            row["attrs"] = '{"kind":"promo","product":'  # truncated: attrs is not valid JSON
            return row, None
        line = jsonl_lines({k: obj([v]) for k, v in row.items()})[0]
        return None, line[: len(line) // 2]
    if kind == "missing_source":
        row["source"] = None
    elif kind == "bad_time":
        row["occurred_at"] = "yesterday"
    elif kind == "unknown_direction":
        row["direction"] = "sideways"
    elif kind == "ces_out_of_range":
        row.update(type="survey", source="survey", channel="email", direction="inbound", attrs='{"ces":"9"}')
    elif kind == "no_identifier":
        row.update(customer_id=None, anonymous_id=None, email=None, phone=None)
    if table:
        return row, None
    d = {k: v for k, v in row.items() if v is not None}
    if "attrs" in d:
        d["attrs"] = json.loads(d["attrs"])
    return None, json.dumps(d, separators=(",", ":"), ensure_ascii=False)
