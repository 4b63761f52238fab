"""The mapping of a source's tables to canonical events (SPEC §6), built from
``system.columns``: each canonical field is the first non-empty of a list of
candidate expressions over the table's columns; a column a candidate needs
that the table lacks reads as NULL (RudderStack adds columns only once an
event carried them), and is reported.

The result is one SELECT per source table that renders every row as the
canonical JSON text ``seamline load`` reads, so the load's own parse
(``sql/load_parse.sql``) validates, normalises and hashes it inside the
engine.  Identifiers are quoted (``quote_ident``), values bound (source name,
table name, the ``types`` map, the watermarks).  Expressions from ``fields``
are the operator's SQL: each is checked to be one expression (text check in
``models.check_expression``, then ClickHouse's own parse here) and runs only
inside the SELECT over the source table.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from seamline.sources.models import FIELDS, Source
from seamline.warehouse import Warehouse, quote_ident

# SPEC §1's event types: an event name equal to one of them maps to it
CANONICAL_TYPES = ("page_view", "session_start", "login", "contact", "resolution", "transfer", "repeat_info",
                   "reauth", "message", "purchase", "survey", "signup", "churn", "identify")
OUTBOUND_TYPES = ("message", "resolution", "transfer")
DEFAULT_TYPES = {
    "posthog": {"$pageview": "page_view", "$screen": "page_view", "$identify": "identify",
                "$create_alias": "identify"},
    "rudderstack": {"pages": "page_view", "screens": "page_view", "identifies": "identify"},
    "snowplow": {},
    "otel_logs": {},
    "table": {},
}
TIME = ("occurred_at", "ingested_at")
# keys of a property bag that are canonical fields, not attrs
_PROPERTY_FIELDS = ("event_id", "occurred_at", "ingested_at", "source", "channel", "direction", "type",
                    "customer_id", "anonymous_id", "email", "phone", "topic", "case_id")
# RudderStack's own columns (not event properties); context_* too
_RUDDER_META = ("id", "received_at", "anonymous_id", "user_id", "sent_at", "original_timestamp", "timestamp",
                "channel", "event", "event_text", "uuid_ts", "context_traits_email", "loaded_at")
RUDDER_EVENT_TABLES = ("pages", "screens", "identifies")
RUDDER_NOT_EVENTS = ("aliases", "users", "groups", "rudder_discards", "accounts")


class MappingError(ValueError):
    """A mapping that cannot run: one line naming the source's key."""


@dataclass
class Plan:
    """How one source table maps to canonical events."""

    source: Source
    table: str
    columns: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)  # canonical -> SQL (Nullable(String); attrs JSON text)
    insert_time: str | None = None  # SQL of the row's insert time, DateTime64(3, 'UTC')
    name_expr: str = "''"  # the event name, before `types`
    where: str = "1"
    params: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def from_sql(self) -> str:
        return f"{quote_ident(self.source.database)}.{quote_ident(self.table)}"

    def select(self, window: str = "1") -> str:
        """The mapped rows as ``_sl_<field>`` columns plus ``_sl_doc``, the canonical JSON text."""
        cols = ",\n       ".join(f"{self.fields[f]} AS _sl_{f}" for f in FIELDS)
        parts = [f"'\"{f}\":', toJSONString(ifNull(_sl_{f}, ''))" for f in FIELDS if f != "attrs"]
        doc = "concat('{', " + ", ',', ".join(parts) + ", ',\"attrs\":', ifNull(_sl_attrs, '{}'), '}')"
        return (f"SELECT {cols},\n       {doc} AS _sl_doc\nFROM {self.from_sql}\n"
                f"WHERE ({self.where}) AND ({window})")

    def stage_sql(self, stage: str, window: str) -> str:
        """Insert the mapped rows into a load's stage: line = a stable 63-bit key of the row.

        The load takes its batches as ranges of the key, so the key's top 12 bits are a hash of the
        row's first identifier (anonymous id, else customer id, email, phone) and the other 51 a hash
        of the row: each batch holds all the rows of a share of the visitors, as a file's batch holds
        a block of its lines.  With the row's hash alone, every batch held rows of every visitor
        (their identity links written again in each batch, parts over the whole identifier range):
        2 M staged rows took 19 s through the load's pipeline, 15-17 s grouped so, 13-16 s in the
        order of their file."""
        who = "ifNull(coalesce(_sl_anonymous_id, _sl_customer_id, _sl_email, _sl_phone), '')"
        key = (f"bitOr(bitShiftLeft(bitAnd(cityHash64({who}), 4095), 51), "
               f"bitAnd(cityHash64({{table_name:String}}, _sl_doc), 2251799813685247))")
        return (f"INSERT INTO {quote_ident(stage)} (line, doc, raw)\n"
                f"SELECT {key}, _sl_doc, ''\n"
                f"FROM ({self.select(window)})")


def columns_of(wh: Warehouse, database: str, table: str) -> dict[str, str]:
    return dict(wh.rows("SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} "
                        "ORDER BY position", {"db": database, "t": table}))


def tables_of(wh: Warehouse, database: str) -> list[str]:
    return [t for (t,) in wh.rows("SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name",
                                  {"db": database})]


# Candidates -------------------------------------------------------------------
class _Builder:
    """Candidate expressions over one table's columns; a missing column is noted and reads as NULL."""

    def __init__(self, plan: Plan):
        self.plan = plan

    def col(self, name: str, why: str) -> str | None:
        if name in self.plan.columns:
            return quote_ident(name)
        note = f"{why}: column {name!r} not found (reads as NULL)"
        if note not in self.plan.missing:
            self.plan.missing.append(note)
        return None

    def json_prop(self, bag: str | None, key: str) -> str | None:
        """A property of a JSON object text: strings unquoted, other values as their JSON text.

        The object is parsed once per row for all its properties (``_props_kv``)."""
        if bag is None:
            return None
        raw = self.json_raw(bag, key)
        # as the load reads a value (sql/load_parse.sql): a string without escapes is its text between the quotes
        return (f"multiIf(startsWith({raw}, '\"') AND position({raw}, '\\\\') = 0, "
                f"substring({raw}, 2, length({raw}) - 2), "
                f"startsWith({raw}, '\"'), JSONExtractString({raw}), {raw} = 'null', '', {raw})")

    @staticmethod
    def json_raw(bag: str, key: str) -> str:
        """The JSON text of a property ('' when there is none)."""
        k = "'" + key.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return f"(arrayFirst(t -> t.1 = {k}, {_props_kv(bag)}).2 AS {_alias('_sl_raw', bag, key)})"


def _alias(prefix: str, *parts: str) -> str:
    """A stable alias for an expression shared by several fields (ClickHouse computes an alias once)."""
    return f"{prefix}_{zlib.crc32(chr(0).join(parts).encode()):08x}"


def _props_kv(bag: str) -> str:
    """The keys and raw values of a JSON object text, parsed once per row."""
    return f"(JSONExtractKeysAndValuesRaw(ifNull({bag}, '{{}}')) AS {_alias('_sl_kv', bag)})"


def _first(*candidates: str | None) -> list[str]:
    return [c for c in candidates if c]


def _channel_of_lib(lib: str | None) -> str | None:
    if lib is None:
        return None
    return (f"multiIf({lib} IN ('web', 'posthog-js', 'posthog-js-lite'), 'web', "
            f"match({lib}, '(?i)(ios|android|react-native|flutter|mobile|unity)'), 'app', '')")


def _json_attrs(bag: str | None, also_skip: tuple[str, ...] = ()) -> str | None:
    """Every property whose key does not start with '$' and is not a canonical field, as a JSON object."""
    if bag is None:
        return None
    skip = ", ".join(f"'{k}'" for k in _PROPERTY_FIELDS + also_skip)
    return ("concat('{', arrayStringConcat(arrayMap(t -> concat(toJSONString(t.1), ':', t.2), "
            f"arrayFilter(t -> NOT startsWith(t.1, '$') AND t.1 NOT IN ({skip}), "
            f"{_props_kv(bag)})), ','), '}}')")


def _columns_attrs(plan: Plan, skip: set[str], skip_prefix: str = "\0") -> str:
    """The table's other columns, non-empty, as a JSON object of strings."""
    cols = [c for c in plan.columns if c not in skip and not c.startswith(skip_prefix)]
    if not cols:
        return "'{}'"
    pairs = ", ".join(f"'{c}', ifNull(toString({quote_ident(c)}), '')" for c in cols)
    return f"toJSONString(mapFilter((k, v) -> v != '', map({pairs})))"


def _candidates(plan: Plan, kind: str, event_table: bool = False) -> dict[str, list[str]]:
    """The default candidates of each canonical field for a kind (SPEC §6)."""
    b, s = _Builder(plan), plan.source
    name = "{source_name:String}"
    dir_rule = f"if(lower(_sl_type) IN {OUTBOUND_TYPES!r}, 'outbound', 'inbound')"
    c: dict[str, list[str]] = {}
    if kind == "posthog":
        p = b.col("properties", "properties")
        prop = lambda k: b.json_prop(p, k)  # noqa: E731
        c["event_id"] = _first(b.col("uuid", "event_id") and "toString(`uuid`)")
        c["occurred_at"] = _first(b.col("timestamp", "occurred_at"))
        c["ingested_at"] = _first(b.col("inserted_at", "ingested_at"), b.col("_timestamp", "ingested_at"))
        c["type"] = _first(b.col("event", "type"))
        plan.name_expr = c["type"][0] if c["type"] else "''"
        c["source"] = _first(prop("source"), name)
        c["channel"] = _first(prop("channel"), _channel_of_lib(prop("$lib")), "'web'")
        c["direction"] = _first(prop("direction"), dir_rule)
        c["anonymous_id"] = _first(b.col("distinct_id", "anonymous_id"))
        for f in ("customer_id", "phone", "topic", "case_id"):
            c[f] = _first(prop(f))
        c["email"] = _first(prop("email"), p and f"JSONExtractString({b.json_raw(p, '$set')}, 'email')")
        c["attrs"] = _first(_json_attrs(p))
        ins = [x for x in (b.col("inserted_at", "insert time"), b.col("_timestamp", "insert time")) if x]
        if len(ins) == 2:  # the expression of PostHog's own minmax index (events_inserted_at_minmax_index)
            ins = ["coalesce(`inserted_at`, `_timestamp`)"]
    elif kind == "rudderstack":
        col = lambda n, why=None: b.col(n, why or n)  # noqa: E731
        c["event_id"] = _first(col("id", "event_id"))
        c["occurred_at"] = _first(col("timestamp", "occurred_at"), col("original_timestamp", "occurred_at"),
                                  col("received_at", "occurred_at"))
        c["ingested_at"] = _first(col("uuid_ts", "ingested_at"), col("received_at", "ingested_at"))
        if plan.table == "tracks":
            c["type"] = _first(col("event", "type"))
        else:  # the event table's name
            c["type"] = ["{table_name:String}"]
        if c["type"] and "event_text" in plan.columns:  # `types` may name the event as sent ("Order Completed")
            c["type"] = [f"if(has({{types_from:Array(String)}}, toString(`event_text`)), toString(`event_text`), "
                         f"{c['type'][0]})"]
        plan.name_expr = c["type"][0] if c["type"] else "''"
        ch = b.col("channel", "channel")
        c["source"] = _first(plan.columns.get("source") and "`source`", name)
        c["channel"] = _first(ch and f"multiIf(lower({ch}) IN ('mobile', 'android', 'ios'), 'app', "
                                     f"lower({ch}) IN ('server', 'sources', 'cloud'), '', {ch})", "'web'")
        c["direction"] = _first(plan.columns.get("direction") and "`direction`", dir_rule)
        c["anonymous_id"] = _first(col("anonymous_id"))
        c["customer_id"] = _first(col("user_id", "customer_id"))
        c["email"] = _first(plan.columns.get("context_traits_email") and "`context_traits_email`",
                            plan.columns.get("email") and "`email`")
        for f in ("phone", "topic", "case_id"):
            c[f] = _first(plan.columns.get(f) and quote_ident(f))
        c["attrs"] = [_columns_attrs(plan, set(_RUDDER_META) | set(_PROPERTY_FIELDS), "context_")]
        ins = [x for x in (b.col("uuid_ts", "insert time"), b.col("received_at", "insert time")) if x]
    elif kind == "snowplow":
        u = b.col("unstruct_event", "properties")
        data = u and f"JSONExtractRaw({u}, 'data', 'data')"
        prop = lambda k: b.json_prop(data, k)  # noqa: E731
        c["event_id"] = _first(b.col("event_id", "event_id") and "toString(`event_id`)")
        c["occurred_at"] = _first(b.col("derived_tstamp", "occurred_at"), b.col("collector_tstamp", "occurred_at"))
        c["ingested_at"] = _first(b.col("load_tstamp", "ingested_at"), b.col("collector_tstamp", "ingested_at"))
        c["type"] = _first(b.col("event_name", "type"))
        plan.name_expr = c["type"][0] if c["type"] else "''"
        pf = b.col("platform", "channel")
        c["source"] = _first(prop("source"), name)
        c["channel"] = _first(prop("channel"), pf and f"multiIf({pf} = 'web', 'web', {pf} IN ('mob', 'app'), 'app', '')",
                              "'web'")
        c["direction"] = _first(prop("direction"), dir_rule)
        c["anonymous_id"] = _first(b.col("domain_userid", "anonymous_id"))
        c["customer_id"] = _first(b.col("user_id", "customer_id"))
        for f in ("email", "phone", "topic", "case_id"):
            c[f] = _first(prop(f))
        c["attrs"] = _first(_json_attrs(data))
        ins = [x for x in (b.col("load_tstamp", "insert time"), b.col("collector_tstamp", "insert time")) if x]
    elif kind == "otel_logs":
        la = b.col("LogAttributes", "fields")
        # a Map column, or a JSON one (the exporter's json option; a dotted key is a path there)
        as_json = plan.columns.get("LogAttributes", "").startswith("JSON")
        attr = lambda k: la and (f"toString(getSubcolumn({la}, '{k}'))" if as_json else f"{la}['{k}']")  # noqa: E731
        hashed = [quote_ident(x) for x in ("Timestamp", "ServiceName", "Body", "TraceId", "SpanId", "LogAttributes")
                  if x in plan.columns]
        c["event_id"] = [f"lower(hex(cityHash64({', '.join(hashed)})))"] if hashed else []
        ts = b.col("Timestamp", "occurred_at")
        c["occurred_at"] = _first(ts)
        c["ingested_at"] = _first(attr("ingested_at"), ts)
        c["type"] = _first(attr("type"), attr("event.name"))
        plan.name_expr = f"coalesce({', '.join(f'nullIf({x}, {chr(39)}{chr(39)})' for x in c['type'])}, '')" \
            if c["type"] else "''"
        c["source"] = _first(b.col("ServiceName", "source"), name)
        c["direction"] = _first(attr("direction"), dir_rule)
        for f in ("channel", "customer_id", "anonymous_id", "email", "phone", "topic", "case_id"):
            c[f] = _first(attr(f))
        skip = ", ".join(f"'{k}'" for k in _PROPERTY_FIELDS + ("event.name",))
        c["attrs"] = _first(la and (_json_attrs(f"toJSONString({la})", ("event",)) if as_json else
                                    f"toJSONString(mapFilter((k, v) -> k NOT IN ({skip}) AND v != '', "
                                    f"CAST({la}, 'Map(String, String)')))"))
        ins = _first(ts)
    else:  # table: the columns of the canonical names, when there
        for f in FIELDS:
            c[f] = _first(plan.columns.get(f) and quote_ident(f))
        c["source"] = c["source"] + [name]
        c["direction"] = c["direction"] + [dir_rule]
        if "attrs" in plan.columns and plan.columns["attrs"].startswith("Map"):
            c["attrs"] = ["toJSONString(CAST(`attrs`, 'Map(String, String)'))"]
        plan.name_expr = c["type"][0] if c["type"] else "''"
        ins = c["ingested_at"] or c["occurred_at"]
    plan.insert_time = ins[0] if ins else None
    if len(ins) > 1:
        plan.insert_time = "coalesce(" + ", ".join(f"toDateTime64({x}, 3, 'UTC')" for x in ins) + ")"
    return c


# Typing and checking ------------------------------------------------------------
def _describe(wh: Warehouse, plan: Plan, exprs: dict[str, str], key: str) -> dict[str, str]:
    """The types of some expressions over the table; an error names the key of the expression that failed."""
    if not exprs:
        return {}
    sel = ", ".join(f"{e} AS {quote_ident(n)}" for n, e in exprs.items())
    try:
        return {n: t for n, t, *_ in wh.rows(f"DESCRIBE (SELECT {sel} FROM {plan.from_sql} WHERE {plan.where})",
                                             plan.params)}
    except Exception as first_err:  # find the culprit, one by one
        for n, e in exprs.items():
            try:
                wh.rows(f"DESCRIBE (SELECT {e} AS x FROM {plan.from_sql})", plan.params)
            except Exception as err:
                raise MappingError(f"{key}{_where(n)} = {_user_expr(plan, n, e)!r}: {_ch_error(err)}") from None
        raise MappingError(f"{key}: the mapping of table {plan.table!r} does not run: {_ch_error(first_err)}") from None


def _where(name: str) -> str:
    field_name = name.split("#")[0]
    return f".fields.{field_name}" if field_name in FIELDS else f".{field_name}"


def _user_expr(plan: Plan, name: str, expr: str) -> str:
    f = name.split("#")[0]
    return plan.source.fields.get(f) or (plan.source.insert_time if f == "insert_time" else expr)


def _ch_error(err: Exception) -> str:
    text = " ".join(str(err).split())
    for marker in ("DB::Exception: ", "Code: "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.split(". (")[0][:200]


def check_single_expression(wh: Warehouse, expr: str, key: str) -> None:
    """ClickHouse parses the expression: it must be one expression and nothing else."""
    try:
        lines = [r[0] for r in wh.rows(f"EXPLAIN AST SELECT ({expr}) AS _sl_expr")]
    except Exception as err:
        raise MappingError(f"{key} = {expr!r}: not a ClickHouse expression: {_ch_error(err)}") from None
    # one SELECT (no UNION) whose only clause is a list of one expression;
    # the client may add a FORMAT (an Identifier beside the list)
    ast = "\n".join(lines)
    if (len(lines) < 4 or lines[1] != " ExpressionList (children 1)" or lines[2] != "  SelectQuery (children 1)"
            or lines[3] != "   ExpressionList (children 1)" or ast.count("SelectQuery") != 1
            or "Subquery" in ast or "TablesInSelectQuery" in ast):
        raise MappingError(f"{key} = {expr!r}: not a single expression")


def _wrap(field_name: str, expr: str, typ: str) -> str | None:
    if typ.replace("Nullable(", "").startswith("Nothing"):
        return None
    if field_name == "attrs":
        return f"toJSONString(CAST({expr}, 'Map(String, String)'))" if "Map(" in typ else f"toString({expr})"
    if field_name in TIME and "Date" in typ:
        return f"concat(replaceOne(toString(toDateTime64({expr}, 3, 'UTC')), ' ', 'T'), 'Z')"
    return f"toString({expr})"


def build_plan(wh: Warehouse, source: Source, table: str, key: str, where: str = "1",
               params: dict[str, Any] | None = None) -> Plan:
    """The mapping of one table of the source; ``key`` names the source in errors (``sources[0]``)."""
    plan = Plan(source=source, table=table, columns=columns_of(wh, source.database, table), where=where)
    types = DEFAULT_TYPES[source.kind] | source.types
    plan.params = {"source_name": source.name, "table_name": table, "types_from": list(types),
                   "types_to": list(types.values())} | (params or {})
    cands = _candidates(plan, source.kind)
    for f, expr in source.fields.items():  # the operator's expressions replace the defaults
        check_single_expression(wh, expr, f"{key}.fields.{f}")
        cands[f] = [expr]
        if f == "type":
            plan.name_expr = expr
    if source.insert_time:
        check_single_expression(wh, source.insert_time, f"{key}.insert_time")
        plan.insert_time = source.insert_time
    elif source.kind == "table" and ("ingested_at" in source.fields or "occurred_at" in source.fields):
        plan.insert_time = source.fields.get("ingested_at") or source.fields["occurred_at"]
    flat = {f"{f}#{i}": e for f in FIELDS for i, e in enumerate(cands.get(f, []))}
    if plan.insert_time:
        flat["insert_time"] = plan.insert_time
    # the default direction reads the mapped type (an alias of the SELECT): text
    derived = {n for n, e in flat.items() if "_sl_type" in e}
    types_found = _describe(wh, plan, {n: e for n, e in flat.items() if n not in derived}, key) \
        | {n: "String" for n in derived}
    if plan.insert_time:
        t = types_found.get("insert_time", "")
        if "Date" not in t:
            raise MappingError(f"{key}.insert_time = {_user_expr(plan, 'insert_time', plan.insert_time)!r}: "
                               f"the insert time must be a date-time, got {t}")
        # a date-time keeps its instant: toTimeZone(toDateTime64(x, 3)) is the same value as
        # toDateTime64(x, 3, 'UTC'), but ClickHouse sees it as monotonic in x, so a skip index or key on
        # the insert time (PostHog's minmax index on coalesce(inserted_at, _timestamp)) skips the
        # history; a date is midnight UTC
        plan.insert_time = (f"toTimeZone(toDateTime64({plan.insert_time}, 3), 'UTC')"
                            if "DateTime" in t else f"toDateTime64({plan.insert_time}, 3, 'UTC')")
    else:
        plan.missing.append("insert time: no insert-time column; every sync reads the whole table")
    for f in FIELDS:
        wrapped = [w for i, e in enumerate(cands.get(f, []))
                   if (w := _wrap(f, e, types_found[f"{f}#{i}"])) is not None]
        if f == "type":
            t = f"ifNull(coalesce({', '.join(f'nullIf({w}, {chr(39)}{chr(39)})' for w in wrapped)}), '')" \
                if wrapped else "''"
            plan.fields[f] = f"transform({t}, {{types_from:Array(String)}}, {{types_to:Array(String)}}, {t})"
        elif not wrapped:
            plan.fields[f] = "CAST(NULL, 'Nullable(String)')"
        elif len(wrapped) == 1:
            plan.fields[f] = f"nullIf({wrapped[0]}, '')"
        else:
            plan.fields[f] = "coalesce(" + ", ".join(f"nullIf({w}, '')" for w in wrapped) + ")"
        if f in ("event_id", "occurred_at", "channel") and not wrapped:
            note = f"{f}: nothing to read it from (required: give fields.{f})"
            if note not in plan.missing:
                plan.missing.append(note)
    return plan


def plans(wh: Warehouse, source: Source, key: str) -> list[Plan]:
    """Every table of a source that holds events, mapped; MappingError when there is none."""
    found = tables_of(wh, source.database)
    if source.kind == "rudderstack":
        event_tables = [t for t in found if t != "tracks" and t not in RUDDER_NOT_EVENTS
                        and {"id", "event_text"} <= set(columns_of(wh, source.database, t))]
        out = []
        if "tracks" in found:  # the track events whose event has no table of its own
            out.append(build_plan(wh, source, "tracks", key, where="`event` NOT IN {event_tables:Array(String)}",
                                  params={"event_tables": event_tables}))
        out += [build_plan(wh, source, t, key) for t in event_tables + [t for t in RUDDER_EVENT_TABLES if t in found]]
        if not out:
            raise MappingError(f"{key}.database = {source.database!r}: no RudderStack event tables "
                               f"(tracks, pages, screens, identifies or an event's table) in it"
                               + ("" if found else " (the database has no tables or does not exist)"))
        return out
    table = source.events_table
    if table not in found:
        raise MappingError(f"{key}.{'table' if source.table else 'database'} = "
                           f"{(source.table or source.database)!r}: no table {source.database}.{table}"
                           + (f" (tables there: {', '.join(found[:8])})" if found else
                              " (the database has no tables or does not exist)"))
    return [build_plan(wh, source, table, key)]
