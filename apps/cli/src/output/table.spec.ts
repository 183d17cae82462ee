import { describe, expect, it } from 'vitest';
import { formatBytes, formatPairs, formatRelative, formatTime } from './format';
import { renderFields, renderTable } from './table';

describe(renderTable.name, () => {
  it('aligns columns with two spaces, no borders, colours or trailing blanks', () => {
    expect(renderTable(['ID', 'STATUS'], [['job_1', 'queued'], ['job_22', null]])).toBe('ID      STATUS\njob_1   queued\njob_22');
  });

  it('prints only the header for no rows', () => {
    expect(renderTable(['ID', 'NAME'], [])).toBe('ID  NAME');
  });
});

describe(renderFields.name, () => {
  it('aligns labels and leaves out empty values', () => {
    expect(renderFields([['id', 'job_1'], ['error', null], ['node', ''], ['total steps', 6]])).toBe('id           job_1\ntotal steps  6');
  });
});

describe('format', () => {
  it('prints Unix seconds as UTC', () => {
    expect(formatTime(1_700_000_000)).toBe('2023-11-14 22:13:20Z');
    expect(formatTime(null)).toBe('');
  });

  it('prints distances from now', () => {
    expect(formatRelative(1000, 1000)).toBe('now');
    expect(formatRelative(1030, 1000)).toBe('in 30s');
    expect(formatRelative(1000 - 300, 1000)).toBe('5m ago');
    expect(formatRelative(1000 + 7200, 1000)).toBe('in 2h');
    expect(formatRelative(1000 - 3 * 86400, 1000)).toBe('3d ago');
  });

  it('prints sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(80 * 2 ** 30)).toBe('80.0 GiB');
    expect(formatBytes(null)).toBe('');
  });

  it('prints pairs', () => {
    expect(formatPairs({ gpu: 'a100', r: 4, list: ['q_proj'] })).toBe('gpu=a100,r=4,list=["q_proj"]');
    expect(formatPairs(null)).toBe('');
  });
});
