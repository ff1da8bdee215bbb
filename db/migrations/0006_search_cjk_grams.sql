-- message.search: pg_trgm needs three characters, and CJK words are one or two (上海, 東京, 서울).
-- Every character and every adjacent pair of each CJK run, indexed only for the messages that have
-- CJK text, so the rest pay one regex test per write. server/messaging/search.ts repeats the class.
CREATE FUNCTION chorus_cjk_grams(body text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(r.run[1], i, n)), '{}')
  FROM regexp_matches(body, '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+', 'g') AS r(run),
       generate_series(1, length(r.run[1])) AS i,
       (VALUES (1), (2)) AS v(n)
  WHERE i + n - 1 <= length(r.run[1])
$$;--> statement-breakpoint
CREATE INDEX "messages_body_cjk_idx" ON "messages" USING gin (chorus_cjk_grams("body"))
  WHERE "body" ~ '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]';
