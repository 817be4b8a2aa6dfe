/**
 * Real API v2 tweets re-shaped as API v1.1 tweets, so v1.1 decoding is tested
 * on real content (the fixtures have v2 samples only): same id, author, text and
 * hashtags; created_at in v1.1's "Sun Dec 14 23:12:32 +0000 2014" form.
 */
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

export function v1CreatedAt(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000 ${d.getUTCFullYear()}`;
}

interface V2Tweet {
  id: string;
  created_at?: string;
  author_id?: string;
  text?: string;
  entities?: { hashtags?: { start: number; end: number; tag: string }[] };
}

/** Every tweet of a line of v2 data: page elements, envelope or bare tweet. */
export function v2TweetsOfLine(line: string): V2Tweet[] {
  const v = JSON.parse(line) as { data?: V2Tweet | V2Tweet[] } & V2Tweet;
  if (Array.isArray(v.data)) return v.data;
  if (v.data !== undefined) return [v.data];
  return [v];
}

export function toV1Line(t: V2Tweet): string {
  const v1: Record<string, unknown> = {
    id: Number(t.id),
    id_str: t.id,
    text: t.text ?? '',
    user: t.author_id === undefined ? undefined : { id_str: t.author_id, screen_name: `u${t.author_id}` },
    entities: {
      hashtags: (t.entities?.hashtags ?? []).map((h) => ({ text: h.tag, indices: [h.start, h.end] })),
      symbols: [],
      urls: [],
      user_mentions: [],
    },
  };
  if (t.created_at !== undefined) v1.created_at = v1CreatedAt(Date.parse(t.created_at));
  // v1.1 tweets without entities do not exist; keep v2's "no entities => parse the text" case out.
  if (t.entities === undefined) delete v1.entities;
  return JSON.stringify(v1);
}
