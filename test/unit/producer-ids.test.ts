/**
 * ProducerIdManager on real files through the storage fs seam: blocks reserved before use, a failed
 * reservation hands out nothing and is retried, a reservation survives a simulated power loss, and
 * malformed block files are refused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PRODUCER_ID_BLOCK_SIZE, PRODUCER_ID_FILE, ProducerIdError, ProducerIdManager } from '../../src/produce/producer-ids.js';
import { FaultyFs } from '../../storage/index.js';
import { removeTempDirs, tempLogDir } from './storage-helpers.js';

afterEach(() => removeTempDirs());

describe('ProducerIdManager', () => {
  it('hands out consecutive ids from a block written to disk before the first of them', async () => {
    const dir = tempLogDir();
    const ids = ProducerIdManager.open(dir);
    expect(await ids.nextId()).toBe(0);
    expect(readFileSync(`${dir}/${PRODUCER_ID_FILE}`, 'utf8')).toBe(`version: 0\nnext_block_start: ${PRODUCER_ID_BLOCK_SIZE}\n`);
    expect(await ids.nextId()).toBe(1);
    expect(await ProducerIdManager.open(dir).nextId()).toBe(PRODUCER_ID_BLOCK_SIZE);
  });

  it('gives out no id when the block cannot be reserved, and reserves it on the next call', async () => {
    const dir = tempLogDir();
    const fs = new FaultyFs();
    const ids = ProducerIdManager.open(dir, fs);
    fs.failNext('fsync', 'EIO');
    await expect(ids.nextId()).rejects.toThrow(/EIO/);
    expect(await ids.nextId()).toBe(0);
    expect(readFileSync(`${dir}/${PRODUCER_ID_FILE}`, 'utf8')).toContain(`next_block_start: ${PRODUCER_ID_BLOCK_SIZE}`);
  });

  it('keeps a reserved block across a power loss: ids after it are new', async () => {
    const dir = tempLogDir();
    const fs = new FaultyFs();
    const ids = ProducerIdManager.open(dir, fs);
    const handedOut = [await ids.nextId(), await ids.nextId()];
    fs.crash();
    const next = await ProducerIdManager.open(dir).nextId();
    expect(handedOut).not.toContain(next);
    expect(next).toBe(PRODUCER_ID_BLOCK_SIZE);
  });

  it('refuses a malformed or unknown-version block file', () => {
    const dir = tempLogDir();
    for (const text of ['version: 1\nnext_block_start: 5\n', 'version: 0\n', 'version: 0\nnext_block_start: -5\n', 'garbage']) {
      writeFileSync(`${dir}/${PRODUCER_ID_FILE}`, text);
      expect(() => ProducerIdManager.open(dir), text).toThrow(ProducerIdError);
    }
  });
});
