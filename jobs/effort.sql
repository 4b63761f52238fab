-- Customer effort: every survey answer (ces 1..7, validated at load) with its
-- channel, topic and source.
INSERT INTO surveys
SELECT e.customer AS customer,
       e.occurred_at, e.event_id, e.channel, if(e.topic = '', 'unknown', e.topic), e.source,
       toUInt8(toFloat64(e.attrs['ces'])) AS ces
FROM {timeline:Identifier} AS e PREWHERE ({full:UInt8} = 1 OR e.customer IN (SELECT key FROM {scope:Identifier}))
  AND e.type = 'survey';
