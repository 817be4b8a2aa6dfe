import { Schema } from '../../runtime/options';

/** file:PATH source options (query string), defaults in one place. */
export const fileSourceSchema = {
  'split-size': {
    type: 'bytes',
    default: 8 * 1024 * 1024,
    min: 1024,
    doc: 'plain files are cut into byte-range splits of about this size, a multiple of 12 of them when more than one (gzip files are one split each)',
  },
} satisfies Schema;

/** file:DIR sink options. */
export const fileSinkSchema = {
  'roll-size': {
    type: 'bytes',
    default: 128 * 1024 * 1024,
    min: 1024,
    doc: 'start a new part file past this size',
  },
} satisfies Schema;

/** What a file split carries to its worker. */
export interface FileSplitConfig {
  path: string;
  /** First byte of the range; the line that straddles it belongs to the previous split. */
  start: number;
  /** Lines starting before this byte belong to the split. */
  end: number;
  gzip: boolean;
}
