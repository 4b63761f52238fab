-- Customer effort: every survey answer (ces 1..7, validated at load) with its
-- channel, topic and source.
INSERT INTO surveys
SELECT if(m.customer = '', substring(e.ident, 3), m.customer) AS customer,
       e.occurred_at, e.event_id, e.channel, if(e.topic = '', 'unknown', e.topic), e.source,
       toUInt8(toFloat64(e.attrs['ces'])) AS ces
FROM events AS e
LEFT JOIN identity_map AS m ON e.ident = m.ident
WHERE e.type = 'survey'
  AND ({full:UInt8} = 1 OR e.ident IN (SELECT ident FROM {scope_idents:Identifier}));
