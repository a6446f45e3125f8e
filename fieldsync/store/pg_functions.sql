-- SQLite's functions that fieldsync's SQL uses, for a hub on PostgreSQL (decision 0300).
-- fieldsync/store/dialect.py renames each call to its fs_ twin here. Times are read as SQLite
-- reads them: an ISO text, with a zone (Z, +08:00) turned into UTC, without one taken as it is;
-- a text that is no time gives NULL, never an error. Every connection runs with TimeZone UTC.

-- The fields are range-checked here, and a day past the month's end rolls over (2024-02-30 is
-- 2024-03-01), as SQLite counts it: a bad time is NULL, never an error that fails the whole
-- query. Seconds are kept to the millisecond, rounded as SQLite rounds them.
CREATE OR REPLACE FUNCTION fs_instant_parsed(value text) RETURNS timestamp LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT make_timestamp(p[1]::int, p[2]::int, 1, coalesce(p[4], '0')::int, coalesce(p[5], '0')::int, 0)
         + (p[3]::int - 1) * interval '1 day'
         + floor(coalesce(p[6], '0')::double precision * 1000 + 0.5) * interval '1 millisecond'
         - CASE WHEN p[7] IS NULL THEN interval '0'
                ELSE (p[7] || '1')::int * (p[8]::int * interval '1 hour' + p[9]::int * interval '1 minute') END
    FROM regexp_match(value, '^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])'
                             '(?:[T ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d(?:\.\d*)?))?)?'
                             '\s*(?:[Zz]|([+-])(\d{2}):(\d{2}))?$') AS p
$$;

-- The same for the form fieldsync writes (2024-05-01T01:02:03.456Z), without a regexp_match in a
-- FROM: one expression PostgreSQL inlines, some twenty times faster; a scan's time is read so on
-- every fold (the rollups' days and minutes). Other forms go to fs_instant_parsed above.
CREATE OR REPLACE FUNCTION fs_instant(value text) RETURNS timestamp LANGUAGE sql IMMUTABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT CASE WHEN value ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$'
    THEN make_timestamp(substr(value, 1, 4)::int, substr(value, 6, 2)::int, 1, substr(value, 12, 2)::int,
                        substr(value, 15, 2)::int, substr(value, 18, 6)::double precision)
         + (substr(value, 9, 2)::int - 1) * interval '1 day'
    ELSE fs_instant_parsed(value) END;
END;

-- 'now' too: not immutable, so never in a generated column. The statement's time, as SQLite's
-- 'now' is (now() would be the transaction's: a write's whole length behind).
CREATE OR REPLACE FUNCTION fs_time(value text) RETURNS timestamp LANGUAGE sql STABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT CASE WHEN value = 'now' THEN (statement_timestamp() AT TIME ZONE 'UTC') ELSE fs_instant(value) END;
END;

-- '+8 hours', '-3 days', 'start of day|month|year': what fieldsync passes; anything else: NULL.
CREATE OR REPLACE FUNCTION fs_shift(at timestamp, modifiers text[]) RETURNS timestamp LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE AS $$
DECLARE m text;
BEGIN
  IF modifiers IS NULL THEN RETURN at; END IF;
  FOREACH m IN ARRAY modifiers LOOP
    IF at IS NULL OR m IS NULL THEN RETURN NULL; END IF;
    m := lower(trim(m));
    IF m ~ '^[-+]?\d+(\.\d+)?\s+(second|minute|hour|day|month|year)s?$' THEN
      at := at + (m || '')::interval;
    ELSIF m = 'start of day' THEN at := date_trunc('day', at);
    ELSIF m = 'start of month' THEN at := date_trunc('month', at);
    ELSIF m = 'start of year' THEN at := date_trunc('year', at);
    ELSIF m IN ('utc', 'localtime') THEN NULL;
    ELSE RETURN NULL;
    END IF;
  END LOOP;
  RETURN at;
END $$;

-- fs_shift without a PL/pgSQL call for the one shift the rollups make on every row ('+8 hours').
CREATE OR REPLACE FUNCTION fs_shifted(at timestamp, modifiers text[]) RETURNS timestamp LANGUAGE sql
STABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT CASE WHEN modifiers IS NULL THEN at
              WHEN cardinality(modifiers) = 1 AND modifiers[1] ~ '^[-+]?\d+ (second|minute|hour|day)s?$'
                THEN at + modifiers[1]::interval
              ELSE fs_shift(at, modifiers) END;
END;

CREATE OR REPLACE FUNCTION fs_date(value text, VARIADIC modifiers text[] DEFAULT NULL) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT to_char(fs_shifted(fs_time(value), modifiers), 'YYYY-MM-DD');
END;

CREATE OR REPLACE FUNCTION fs_datetime(value text, VARIADIC modifiers text[] DEFAULT NULL) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT to_char(fs_shifted(fs_time(value), modifiers), 'YYYY-MM-DD HH24:MI:SS');
END;

-- date(x, '+8 hours') with the shift a literal of whole seconds to days, as the dialect writes it:
-- fs_date_by(x, interval '+8 hours'). It inlines where fs_date does not (its list of modifiers makes
-- fs_shifted a function call a row): the rollups' day of every scan, a third of the cost.
CREATE OR REPLACE FUNCTION fs_date_by(value text, shift interval) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT to_char(fs_time(value) + shift, 'YYYY-MM-DD');
END;

CREATE OR REPLACE FUNCTION fs_datetime_by(value text, shift interval) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT to_char(fs_time(value) + shift, 'YYYY-MM-DD HH24:MI:SS');
END;

CREATE OR REPLACE FUNCTION fs_julianday(value text) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE BEGIN ATOMIC
  -- as SQLite computes it: whole milliseconds since noon of 4714 BC, divided; the same double
  -- to the last bit, so differences of two rounded to minutes round alike
  SELECT (round(extract(epoch FROM fs_instant(value)) * 1000)::bigint + 210866760000000)::double precision
         / 86400000::double precision;
END;

CREATE OR REPLACE FUNCTION fs_strftime(format text, value text, VARIADIC modifiers text[] DEFAULT NULL) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE at timestamp := fs_shift(fs_time(value), modifiers); out text := ''; i int := 1; c text;
BEGIN
  IF at IS NULL THEN RETURN NULL; END IF;
  WHILE i <= length(format) LOOP
    c := substr(format, i, 1);
    IF c = '%' AND i < length(format) THEN
      i := i + 1;
      c := substr(format, i, 1);
      out := out || CASE c
        WHEN 'Y' THEN to_char(at, 'YYYY') WHEN 'm' THEN to_char(at, 'MM') WHEN 'd' THEN to_char(at, 'DD')
        WHEN 'H' THEN to_char(at, 'HH24') WHEN 'M' THEN to_char(at, 'MI') WHEN 'S' THEN to_char(at, 'SS')
        WHEN 'f' THEN to_char(at, 'SS.MS') WHEN 'j' THEN to_char(at, 'DDD') WHEN 'w' THEN to_char(at, 'D')::int - 1 || ''
        WHEN 's' THEN floor(extract(epoch FROM at))::bigint || '' WHEN '%' THEN '%'
        ELSE '%' || c END;
    ELSE
      out := out || c;
    END IF;
    i := i + 1;
  END LOOP;
  RETURN out;
END $$;

-- printf as fieldsync uses it: one number in %d, %0Nd, %.Nf or %+.Nf.
CREATE OR REPLACE FUNCTION fs_printf(format text, value double precision) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE spec text[] := regexp_match(format, '%(\+?)(0?)(\d*)(?:\.(\d+))?([df])'); body text;
BEGIN
  IF spec IS NULL OR value IS NULL THEN RETURN format; END IF;
  IF spec[5] = 'd' THEN body := trunc(value)::bigint::text;
  ELSE body := round(value::numeric, coalesce(spec[4], '6')::int)::text;
  END IF;
  IF value < 0 AND left(body, 1) <> '-' THEN body := '-' || body; END IF;   -- -0.0001 is '-0.000'
  IF spec[1] = '+' AND value >= 0 THEN body := '+' || body; END IF;
  IF spec[2] = '0' AND spec[3] <> '' THEN body := lpad(body, spec[3]::int, '0'); END IF;
  RETURN regexp_replace(format, '%\+?0?\d*(\.\d+)?[df]', body);
END $$;

-- substr as SQLite counts: a start of 0 or below the first character, a negative start from the
-- end, a negative length the characters before the start (PostgreSQL's fails on a negative
-- length, so a row an earlier condition would have left out could fail the whole query). The
-- usual case (both positive) is PostgreSQL's own, inlined: an index on substr(id, 11, 8) serves.
CREATE OR REPLACE FUNCTION fs_substr_counted(value text, start bigint, length bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE p1 bigint := start; p2 bigint := abs(length);
BEGIN
  IF p1 < 0 THEN
    p1 := p1 + char_length(value);
    IF p1 < 0 THEN p2 := greatest(p2 + p1, 0); p1 := 0; END IF;
  ELSIF p1 > 0 THEN p1 := p1 - 1;
  ELSIF p2 > 0 THEN p2 := p2 - 1;
  END IF;
  IF length < 0 THEN
    p1 := p1 - p2;
    IF p1 < 0 THEN p2 := p2 + p1; p1 := 0; END IF;
  END IF;
  RETURN substr(value, (p1 + 1)::int, least(p2, 1000000000)::int);
END $$;
CREATE OR REPLACE FUNCTION fs_substr(value text, start bigint, length bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT CASE WHEN start > 0 AND length >= 0 THEN substr(value, start::int, length::int)
              ELSE fs_substr_counted(value, start, length) END;
END;
CREATE OR REPLACE FUNCTION fs_substr(value text, start bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT CASE WHEN start > 0 THEN substr(value, start::int) ELSE fs_substr_counted(value, start, 1000000000) END;
END;

-- CAST(x AS INTEGER) as SQLite casts: a real truncated toward zero (PostgreSQL rounds), a text
-- by its leading integer ('12abc' is 12, 'abc' 0). One per argument type, so none is converted.
CREATE OR REPLACE FUNCTION fs_integer(value double precision) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT trunc(value)::bigint $$;
CREATE OR REPLACE FUNCTION fs_integer(value numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT trunc(value)::bigint $$;
CREATE OR REPLACE FUNCTION fs_integer(value bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT value $$;
CREATE OR REPLACE FUNCTION fs_integer(value integer) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT value::bigint $$;
CREATE OR REPLACE FUNCTION fs_integer(value smallint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT value::bigint $$;
CREATE OR REPLACE FUNCTION fs_integer(value boolean) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT value::int::bigint $$;
CREATE OR REPLACE FUNCTION fs_integer(value text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT coalesce(substring(value FROM '^\s*([-+]?\d{1,18})'), '0')::bigint $$;

CREATE OR REPLACE FUNCTION fs_least(a anycompatible, b anycompatible) RETURNS anycompatible
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE least(a, b) END $$;
CREATE OR REPLACE FUNCTION fs_greatest(a anycompatible, b anycompatible) RETURNS anycompatible
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE greatest(a, b) END $$;

-- JSON paths as SQLite writes them ('$', '$.a.b', '$[0]', '$.a[2].b', '$."a.b"') as PostgreSQL's
-- path arrays.
CREATE OR REPLACE FUNCTION fs_json_path(path text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(coalesce(m[1], m[2], m[3]) ORDER BY n), '{}')
  FROM regexp_matches(coalesce(path, '$'), '\."([^"]*)"|\.([^.\[\]"]+)|\[(\d+)\]', 'g') WITH ORDINALITY AS t(m, n)
$$;

-- A JSON value as SQLite gives it to SQL: a string as its text, a number or boolean as its text,
-- null as NULL, an array or object as JSON text.
CREATE OR REPLACE FUNCTION fs_json_sql(value jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE jsonb_typeof(value) WHEN 'null' THEN NULL WHEN 'string' THEN value #>> '{}'
         WHEN 'boolean' THEN CASE WHEN value = 'true' THEN '1' ELSE '0' END ELSE value::text END
$$;

CREATE OR REPLACE FUNCTION fs_json_extract(doc text, path text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT fs_json_sql(doc::jsonb #> fs_json_path(path));
END;

CREATE OR REPLACE FUNCTION fs_json_array_length(doc text, path text DEFAULT '$') RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT CASE jsonb_typeof(doc::jsonb #> fs_json_path(path)) WHEN 'array'
         THEN jsonb_array_length(doc::jsonb #> fs_json_path(path)) ELSE 0 END;
END;

CREATE OR REPLACE FUNCTION fs_json_each(doc text, path text DEFAULT '$')
RETURNS TABLE (key text, value text, type text) LANGUAGE sql IMMUTABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT (e.n - 1)::text, fs_json_sql(e.v), jsonb_typeof(e.v)
    FROM jsonb_array_elements(CASE jsonb_typeof(doc::jsonb #> fs_json_path(path)) WHEN 'array'
         THEN doc::jsonb #> fs_json_path(path) ELSE '[]' END) WITH ORDINALITY AS e(v, n)
  UNION ALL
  SELECT o.key, fs_json_sql(o.value), jsonb_typeof(o.value)
    FROM jsonb_each(CASE jsonb_typeof(doc::jsonb #> fs_json_path(path)) WHEN 'object'
         THEN doc::jsonb #> fs_json_path(path) ELSE '{}' END) AS o;
END;

-- A list passed as JSON, as one array: immutable, so the planner folds it for the values it is
-- given and knows how long the list is, where it guesses 200 rows for any set-returning function
-- (decision 0440). `x IN (SELECT unnest(fs_json_array(?)))` is how the dialect writes a list.
CREATE OR REPLACE FUNCTION fs_json_array(doc text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT coalesce(array_agg(value), '{}') FROM fs_json_each(doc);
END;

-- Sums and counts of comparisons, as SQLite adds up its 0/1 truth values.
CREATE OR REPLACE FUNCTION fs_add_bool(total bigint, value boolean) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(total, 0) + CASE WHEN value THEN 1 ELSE 0 END $$;
DO $$ BEGIN
  CREATE AGGREGATE sum(boolean) (SFUNC = fs_add_bool, STYPE = bigint);
EXCEPTION WHEN duplicate_function THEN NULL;
END $$;
