-- What an increment of silence recomputes (seamline.scopes.Window): per
-- customer of the run, its contacts and customer-days from the UTC day of its
-- earliest new event (first_ms in {news:Identifier}; 0: the whole history)
-- on, from its timeline rows of the {repeat_ms} ms before that day on.
--
-- A new event changes the counts of its own day, and a new contact the repeat
-- flag of the customer's next contact on its topic (a contact is a repeat when
-- the previous one on its topic is at most {repeat_ms} before it), which comes
-- later: everything before the day stays.  A contact of the day or later
-- finds its previous one in the {repeat_ms} ms it looks back over, or has none
-- there and is no repeat either way; the contacts and days of that look-back
-- are read, not written (the runner keeps only the rows from from_ms on).
INSERT INTO {window:Identifier}
SELECT customer,
       if(first_ms = 0, toInt64(0),
          toUnixTimestamp64Milli(toDateTime64(toDate(fromUnixTimestamp64Milli(first_ms, 'UTC')), 3, 'UTC'))) AS from_ms,
       if(from_ms = 0, toInt64(0), from_ms - {repeat_ms:Int64}) AS read_ms
FROM {news:Identifier};
