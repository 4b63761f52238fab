-- Parse and validate one staged batch of raw rows (SPEC §1) into {parsed}.
-- Every row gets a `reason`: '' when valid, else why it goes to quarantine.
-- What is valid is decided here, once: every job and page handles what this
-- accepts (no NUL or invalid UTF-8 in stored text, times in a range Python
-- and the jobs' Date/DateTime arithmetic hold, ces stored as '1'..'7').
-- Parameters: {stage:Identifier} rows with {lo} <= line < {hi}, {parsed:Identifier}, {salt:String},
-- {load_time:DateTime64(3)}
INSERT INTO {parsed:Identifier}
SELECT
    line,
    -- no raw email or phone at rest (SPEC §8): in a quarantined row's text,
    -- every email address and every value of a phone field is replaced by its hash
    if(reason = '', raw_text, arrayFold((acc, m) -> replaceAll(acc, m.1, m.2),
        arrayConcat(
            arrayMap(m -> (m, lower(hex(SHA256(concat(hash_salt, ':email:', lower(trimBoth(m))))))),
                     extractAll(raw_text, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+')),
            arrayMap(m -> (concat('"', m, '"'), concat('"', lower(hex(SHA256(concat(hash_salt, ':phone:',
                              concat(if(startsWith(trimBoth(m), '+'), '+', ''), replaceRegexpAll(m, '[^0-9]', '')))))), '"')),
                     arrayFilter(m -> replaceRegexpAll(m, '[^0-9]', '') != '',
                                 extractAll(raw_text, '"(?:phone|mobile|phone_number|msisdn|tel)"\\s*:\\s*"([^"]*)"')))),
        raw_text)) AS raw,
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
    -- ces in its one canonical form ('5', not ' 5' or '5.0'): the effort job casts it as is; an email
    -- or phone in attrs is stored as its hash (SPEC §8)
    mapApply((k, v) -> (k, multiIf(
        match(lower(k), '(^|_)e?-?mail($|_)') AND trimBoth(v) != '',
            lower(hex(SHA256(concat(hash_salt, ':email:', lower(trimBoth(v)))))),
        match(lower(k), '(^|_)(phone|mobile|msisdn|tel)($|_)') AND replaceRegexpAll(v, '[^0-9]', '') != '',
            lower(hex(SHA256(concat(hash_salt, ':phone:', concat(if(startsWith(trimBoth(v), '+'), '+', ''),
                                                               replaceRegexpAll(v, '[^0-9]', '')))))),
        arrayFold((acc, m) -> replaceAll(acc, m, lower(hex(SHA256(concat(hash_salt, ':email:', lower(m)))))),
                  extractAll(v, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+'), v))),
        if(has_ces AND ces_ok, mapUpdate(attrs, map('ces', substring(ces_text, 1, 1))), attrs)) AS attrs,
    multiIf(
        bad_utf8, concat('invalid UTF-8 in ', if(utf8_field != '', concat('field ', substringUTF8(utf8_field, 1, 40)), 'line')),
        NOT is_json, 'invalid JSON',
        NOT is_obj, if(loader_reason != '', loader_reason, 'not a JSON object'),
        has_nul, concat('NUL byte in ', if(nul_field != '', concat('field ', substringUTF8(nul_field, 1, 40)), 'line')),
        dup_key != '', concat('duplicate field in JSON object: ', substringUTF8(dup_key, 1, 40)),
        not_text != '', concat(not_text, ' must be a string, got ',
                               if(startsWith(f_raw[not_text], '['), 'an array', 'an object')),
        missing != '', concat('missing required field: ', missing),
        NOT occ_ok OR occurred IS NULL OR abs(toYear(occurred) - occ_year) > 1,
            concat('unparseable time in occurred_at: ', substringUTF8(f_occurred, 1, 80)),
        occ_year < 1969 OR occurred < toDateTime64('1970-01-01 00:00:00', 3, 'UTC'),
            concat('occurred_at before 1970: ', f_occurred),
        occurred > max_time,
            concat('occurred_at in the future: ', f_occurred, ' (later than load time + 1 day)'),
        f_ingested != '' AND (NOT ing_ok OR ingested IS NULL OR abs(toYear(ingested) - ing_year) > 1),
            concat('unparseable time in ingested_at: ', substringUTF8(f_ingested, 1, 80)),
        f_ingested != '' AND (ing_year < 1969 OR ingested < toDateTime64('1970-01-01 00:00:00', 3, 'UTC')),
            concat('ingested_at before 1970: ', f_ingested),
        f_ingested != '' AND ingested > max_time,
            concat('ingested_at in the future: ', f_ingested, ' (later than load time + 1 day)'),
        f_direction NOT IN ('inbound', 'outbound'),
            concat('unknown direction: ', substringUTF8(f_direction, 1, 80)),
        ident = '', 'no identifier: one of customer_id, anonymous_id, email, phone is required',
        attrs_raw NOT IN ('', 'null') AND NOT startsWith(attrs_raw, '{'), 'attrs must be a flat object of strings',
        dup_attr != '', concat('duplicate key in attrs: ', substringUTF8(dup_attr, 1, 40)),
        (f_type = 'survey' OR has_ces) AND NOT ces_ok,
            concat('ces must be an integer 1..7, got ', if(has_ces, concat('''', substringUTF8(attrs['ces'], 1, 40), ''''), 'nothing')),
        '') AS reason
FROM
(
    SELECT
        line,
        -- Text that is not UTF-8 is stored (and parsed) with U+FFFD for the bad
        -- bytes: the row is quarantined either way, and its raw text stays
        -- readable (a client shows invalid UTF-8 as hex).
        NOT isValidUTF8(doc) AS bad_utf8,
        if(bad_utf8, toValidUTF8(doc), doc) AS text0,
        -- a NUL byte is invalid JSON as it stands; as the escape it parses, and
        -- the reason can name its field.  \u0000 escaped in the text is a NUL
        -- too (\\u0000, an escaped backslash, is not).
        position(text0, '\0') > 0 AS raw_nul,
        if(raw_nul, replaceAll(text0, '\0', '\\u0000'), text0) AS text,
        raw_nul OR (position(text, '\\u0000') > 0 AND position(replaceAll(text, '\\\\', ''), '\\u0000') > 0) AS has_nul,
        if(raw = '', text0, raw) AS raw_text,
        startsWith(trimLeft(text), '{') AS looks_obj,
        JSONExtractKeysAndValuesRaw(if(looks_obj, text, '{}')) AS kv,
        -- one parse for most rows: a document that yielded keys is valid JSON
        if(notEmpty(kv), 1, isValidJSON(text)) AS is_json,
        is_json AND looks_obj AS is_obj,
        -- rows a reader rejected arrive as ["reason"] with their original text
        -- (never empty), or, for the damage that ended a file, with none
        if(is_json AND startsWith(text, '["') AND (raw != '' OR startsWith(text, '["file damaged at line '))
           AND JSONType(text) = 'Array', JSONExtractString(text, 1), '') AS loader_reason,
        -- the field a reason names: the first, in document order, that holds the fault
        if(bad_utf8, arrayFirst(t -> position(t.1, '\xEF\xBF\xBD') > 0 OR position(t.2, '\xEF\xBF\xBD') > 0, kv).1, '') AS utf8_field,
        if(has_nul, arrayFirst(t -> position(t.1, '\0') > 0
                                 OR (position(t.2, '\\u0000') > 0 AND position(replaceAll(t.2, '\\\\', ''), '\\u0000') > 0), kv).1,
           '') AS nul_field,
        -- {"event_id": "a", "event_id": "b"} is ambiguous: which one is meant?
        if(arrayUniq(kv.1) != length(kv), arrayFirst(k -> countEqual(kv.1, k) > 1, kv.1), '') AS dup_key,
        mapFromArrays(kv.1, kv.2) AS f_raw,
        mapFromArrays(kv.1, arrayMap(v -> multiIf(startsWith(v, '"') AND position(v, '\\') = 0, substring(v, 2, length(v) - 2),
                                                  startsWith(v, '"'), JSONExtractString(v),
                                                  v = 'null' OR startsWith(v, '{') OR startsWith(v, '['), '', v), kv.2)) AS f,
        -- a field of the format given as an array or object would be read as empty
        arrayFirst(t -> t.1 IN ('event_id', 'occurred_at', 'ingested_at', 'source', 'channel', 'direction', 'type',
                                'customer_id', 'anonymous_id', 'email', 'phone', 'topic', 'case_id')
                        AND (startsWith(t.2, '[') OR startsWith(t.2, '{')), kv).1 AS not_text,
        trimBoth(f['event_id']) AS f_event_id,
        trimBoth(f['occurred_at']) AS f_occurred,
        trimBoth(f['ingested_at']) AS f_ingested,
        lower(trimBoth(f['source'])) AS f_source,
        lower(trimBoth(f['channel'])) AS f_channel,
        lower(trimBoth(f['direction'])) AS f_direction,
        lower(trimBoth(f['type'])) AS f_type,
        -- Identifiers that identify no one are ignored (SPEC §2): the defaults,
        -- and the configured values and patterns (migration 0020)
        arrayConcat(['null', 'undefined', 'none', 'nan', '0', '-1', 'anonymous', 'unknown', 'guest'],
                    (SELECT groupArray(value) FROM identity_blocklist WHERE kind = 'value')) AS blocked,
        (SELECT groupArray(value) FROM identity_blocklist WHERE kind = 'pattern') AS blocked_patterns,
        trimBoth(f['customer_id']) AS given_customer_id,
        if(has(blocked, lower(given_customer_id)) OR arrayExists(p -> match(given_customer_id, p), blocked_patterns),
           '', given_customer_id) AS f_customer_id,
        trimBoth(f['anonymous_id']) AS given_anonymous_id,
        if(has(blocked, lower(given_anonymous_id)) OR arrayExists(p -> match(given_anonymous_id, p), blocked_patterns),
           '', given_anonymous_id) AS f_anonymous_id,
        lower(trimBoth(f['email'])) AS given_email,
        if(has(blocked, given_email) OR arrayExists(p -> match(given_email, p), blocked_patterns), '', given_email) AS f_email,
        concat(if(startsWith(trimBoth(f['phone']), '+'), '+', ''), replaceRegexpAll(f['phone'], '[^0-9]', '')) AS given_phone,
        if(has(blocked, lower(trimBoth(f['phone']))) OR has(blocked, given_phone)
           OR arrayExists(p -> match(given_phone, p), blocked_patterns), '', given_phone) AS f_phone_norm,
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
        -- The parse does not refuse what the jobs cannot hold: it reads year 0000
        -- as the current year, and 9999-12-31 / 1900-01-01 parse as such but wrap
        -- in toDate / toDateTime (to 2105 and 2079) and overflow Python's dates
        -- on the pages.  So the text's year is checked too, and times must lie
        -- in [1970-01-01, load time + 1 day].
        toInt32OrZero(substring(f_occurred, 1, 4)) AS occ_year,
        toInt32OrZero(substring(f_ingested, 1, 4)) AS ing_year,
        -- the future bound; a setting can later replace the 1 day
        {load_time:DateTime64(3, 'UTC')} + INTERVAL 1 DAY AS max_time,
        -- {salt} empty: the installation's salt (migration 0021; seamline.governance.salt)
        if({salt:String} != '', {salt:String},
           if(ifNull((SELECT argMax(salt, set_at) FROM installation_salt), '') AS stored_salt != '', stored_salt,
              'seamline-default-salt')) AS hash_salt,
        if(f_email = '', '', lower(hex(SHA256(concat(hash_salt, ':email:', f_email))))) AS email_hash,
        if(replaceRegexpAll(f_phone_norm, '[^0-9]', '') = '', '',
           lower(hex(SHA256(concat(hash_salt, ':phone:', f_phone_norm))))) AS phone_hash,
        multiIf(f_customer_id != '', concat('c:', f_customer_id),
                f_anonymous_id != '', concat('a:', f_anonymous_id),
                email_hash != '', concat('e:', email_hash),
                phone_hash != '', concat('p:', phone_hash), '') AS ident,
        arrayFirst(t -> t.1 = 'attrs', kv).2 AS attrs_raw,
        if(startsWith(attrs_raw, '{'), JSONExtractKeysAndValuesRaw(attrs_raw), []) AS attrs_kv,
        if(arrayUniq(attrs_kv.1) != length(attrs_kv), arrayFirst(k -> countEqual(attrs_kv.1, k) > 1, attrs_kv.1), '') AS dup_attr,
        -- values: strings unquoted; numbers, booleans, arrays and objects as their JSON text; null is no value
        CAST(arrayMap(t -> (t.1, multiIf(startsWith(t.2, '"') AND position(t.2, '\\') = 0, substring(t.2, 2, length(t.2) - 2),
                                         startsWith(t.2, '"'), JSONExtractString(t.2), t.2)),
                      arrayFilter(t -> t.2 != 'null', attrs_kv)), 'Map(String, String)') AS attrs,
        mapContains(attrs, 'ces') AS has_ces,
        trimBoth(attrs['ces']) AS ces_text,
        -- an integer 1..7, trimmed; 5.0 (or the JSON number 5.0) is 5
        match(ces_text, '^[1-7](\\.0+)?$') AS ces_ok
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
