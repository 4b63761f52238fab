-- Customer effort: every survey answer (ces 1..7, validated at load) with its
-- channel, topic and source.  The load stores ces as '1'..'7'; rows loaded
-- before it did (' 5', '5.0') are read the same way, and nothing a job reads
-- can fail it.
INSERT INTO surveys
SELECT e.customer AS customer,
       e.occurred_at, e.event_id, e.channel, if(e.topic = '', 'unknown', e.topic), e.source,
       toUInt8(toFloat64OrZero(trimBoth(e.attrs['ces']))) AS ces
FROM {timeline:Identifier} AS e WHERE e.type = 'survey' AND ces BETWEEN 1 AND 7;
