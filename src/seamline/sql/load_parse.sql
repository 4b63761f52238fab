-- Parse and validate one staged batch of raw rows (SPEC §1) into {parsed}.
-- Every row gets a `reason`: '' when valid, else why it goes to quarantine.
-- Parameters: {stage:Identifier} rows with {lo} <= line < {hi}, {parsed:Identifier}, {salt:String},
-- {load_time:DateTime64(3)}
INSERT INTO {parsed:Identifier}
SELECT
    line,
    raw_text AS raw,
    f_event_id AS event_id,
    occurred AS occurred_at,
    ifNull(ingested, {load_time:DateTime64(3, 'UTC')}) AS ingested_at,
    f_source AS source,
    f_channel AS channel,
    f_direction AS direction,
    f_type AS type,
    ident,
    f_customer_id AS customer_id,
    f_anonymous_id AS anonymous_id,
    email_hash,
    phone_hash,
    f_topic AS topic,
    f_case_id AS case_id,
    attrs,
    multiIf(
        NOT is_json, 'invalid JSON',
        NOT is_obj, if(loader_reason != '', loader_reason, 'not a JSON object'),
        missing != '', concat('missing required field: ', missing),
        NOT occ_ok OR occurred IS NULL,
            concat('unparseable time in occurred_at: ', substring(f_occurred, 1, 80)),
        f_ingested != '' AND (NOT ing_ok OR ingested IS NULL),
            concat('unparseable time in ingested_at: ', substring(f_ingested, 1, 80)),
        f_direction NOT IN ('inbound', 'outbound'),
            concat('unknown direction: ', substring(f_direction, 1, 80)),
        ident = '', 'no identifier: one of customer_id, anonymous_id, email, phone is required',
        attrs_raw NOT IN ('', 'null') AND NOT startsWith(attrs_raw, '{'), 'attrs must be a flat object of strings',
        (f_type = 'survey' OR mapContains(attrs, 'ces')) AND NOT ces_ok,
            concat('ces must be an integer 1..7, got ', if(mapContains(attrs, 'ces'), concat('''', substring(attrs['ces'], 1, 40), ''''), 'nothing')),
        '') AS reason
FROM
(
    SELECT
        line,
        if(raw = '', doc, raw) AS raw_text,
        startsWith(trimLeft(doc), '{') AS looks_obj,
        JSONExtractKeysAndValuesRaw(if(looks_obj, doc, '{}')) AS kv,
        -- one parse for most rows: a document that yielded keys is valid JSON
        if(notEmpty(kv), 1, isValidJSON(doc)) AS is_json,
        is_json AND looks_obj AS is_obj,
        -- CSV/Parquet rows the reader rejected arrive as ["reason"] with their original text
        if(raw != '' AND is_json AND JSONType(doc) = 'Array', JSONExtractString(doc, 1), '') AS loader_reason,
        mapFromArrays(kv.1, arrayMap(v -> multiIf(startsWith(v, '"') AND position(v, '\\') = 0, substring(v, 2, length(v) - 2),
                                                  startsWith(v, '"'), JSONExtractString(v),
                                                  v = 'null' OR startsWith(v, '{') OR startsWith(v, '['), '', v), kv.2)) AS f,
        trimBoth(f['event_id']) AS f_event_id,
        trimBoth(f['occurred_at']) AS f_occurred,
        trimBoth(f['ingested_at']) AS f_ingested,
        lower(trimBoth(f['source'])) AS f_source,
        lower(trimBoth(f['channel'])) AS f_channel,
        lower(trimBoth(f['direction'])) AS f_direction,
        lower(trimBoth(f['type'])) AS f_type,
        trimBoth(f['customer_id']) AS f_customer_id,
        trimBoth(f['anonymous_id']) AS f_anonymous_id,
        lower(trimBoth(f['email'])) AS f_email,
        concat(if(startsWith(trimBoth(f['phone']), '+'), '+', ''), replaceRegexpAll(f['phone'], '[^0-9]', '')) AS f_phone_norm,
        lower(trimBoth(f['topic'])) AS f_topic,
        trimBoth(f['case_id']) AS f_case_id,
        arrayStringConcat(arrayFilter(
            (n, v) -> v = '',
            ['event_id', 'occurred_at', 'source', 'channel', 'direction', 'type'],
            [f_event_id, f_occurred, f_source, f_channel, f_direction, f_type]), ', ') AS missing,
        match(f_occurred, '^[0-9][0-9][0-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])$') AS occ_ok,
        match(f_ingested, '^[0-9][0-9][0-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])$') AS ing_ok,
        parseDateTime64BestEffortOrNull(upper(f_occurred), 3, 'UTC') AS occurred,  -- RFC 3339 allows 't' / 'z'
        parseDateTime64BestEffortOrNull(upper(f_ingested), 3, 'UTC') AS ingested,  -- RFC 3339 allows 't' / 'z'
        if(f_email = '', '', lower(hex(SHA256(concat({salt:String}, ':email:', f_email))))) AS email_hash,
        if(replaceRegexpAll(f_phone_norm, '[^0-9]', '') = '', '',
           lower(hex(SHA256(concat({salt:String}, ':phone:', f_phone_norm))))) AS phone_hash,
        multiIf(f_customer_id != '', concat('c:', f_customer_id),
                f_anonymous_id != '', concat('a:', f_anonymous_id),
                email_hash != '', concat('e:', email_hash),
                phone_hash != '', concat('p:', phone_hash), '') AS ident,
        arrayFirst(t -> t.1 = 'attrs', kv).2 AS attrs_raw,
        CAST(if(startsWith(attrs_raw, '{'),
                arrayMap(t -> (t.1, multiIf(startsWith(t.2, '"') AND position(t.2, '\\') = 0, substring(t.2, 2, length(t.2) - 2),
                                            startsWith(t.2, '"'), JSONExtractString(t.2), t.2)),
                         arrayFilter(t -> t.2 != 'null', JSONExtractKeysAndValuesRaw(attrs_raw))),
                []), 'Map(String, String)') AS attrs,
        toFloat64OrNull(trimBoth(attrs['ces'])) AS ces_num,
        ces_num IS NOT NULL AND ces_num = floor(ces_num) AND ces_num BETWEEN 1 AND 7 AS ces_ok
    FROM {stage:Identifier}
    WHERE line >= {lo:UInt64} AND line < {hi:UInt64}
);

-- The rows that are valid and new, into events: first occurrence in the
-- batch, and not loaded before (the dedup keys and identity edges follow
-- through materialized views).  Parameters: {parsed:Identifier},
-- {load_id:String} (the batch), {load_time:DateTime64(3)}
INSERT INTO events (event_id, occurred_at, ingested_at, source, channel, direction, type, ident, customer_id,
                    anonymous_id, email_hash, phone_hash, topic, case_id, attrs, load_id, loaded_at)
SELECT event_id, occurred_at, ingested_at, source, channel, direction, type, ident, customer_id,
       anonymous_id, email_hash, phone_hash, topic, case_id, attrs, {load_id:String}, {load_time:DateTime64(3, 'UTC')}
FROM {parsed:Identifier}
WHERE reason = ''
  AND event_id NOT IN (
      SELECT event_id FROM event_keys
      WHERE event_id IN (SELECT event_id FROM {parsed:Identifier} WHERE reason = ''))
ORDER BY line
LIMIT 1 BY event_id;
