import { buildSync } from 'esbuild';
import * as path from 'path';
import type { WebSocketCtor } from '../../src/client';

const root = path.resolve(__dirname, '../..');

describe('tickcast/client in a browser', () => {
  it('bundles for the browser from rxjs, streams/ and src/client/ alone', () => {
    const result = buildSync({
      absWorkingDir: root,
      entryPoints: ['src/client/index.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const outside = Object.keys(result.metafile.inputs).filter(
      (input) => !/^(src\/client\/|streams\/|node_modules\/(rxjs|tslib)\/)/.test(input),
    );
    expect(outside).toStrictEqual([]);
  });

  it("accepts the runtime's own WebSocket class as WebSocketCtor", () => {
    // Compile-time check: fails `tsc` if the DOM WebSocket no longer fits the client's interface.
    const fits: typeof WebSocket extends WebSocketCtor ? true : false = true;
    expect(fits).toBe(true);
  });
});
