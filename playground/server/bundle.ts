/**
 * Bundles the playground page (playground/web/main.ts with the SDK and three.js, and
 * playground/web/style.css) with esbuild, into memory: nothing is written to disk, nothing built
 * is committed.
 */
import path from 'node:path'
import { build } from 'esbuild'
import { ROOT } from '../../stack/paths.ts'

/** The playground's source folder. */
export const PLAYGROUND_DIR = path.join(ROOT, 'playground', 'web')

/** One bundled file, served under `/assets/<name>`. */
export interface Asset {
  contentType: string
  body: Uint8Array<ArrayBuffer>
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

/**
 * Builds the page's script and stylesheet (`main.js`, `style.css` and their source maps).
 *
 * @example
 * const assets = await bundlePlayground() // Map { 'main.js' => …, 'style.css' => …, … }
 */
export async function bundlePlayground(): Promise<Map<string, Asset>> {
  const outdir = path.join(PLAYGROUND_DIR, 'assets')
  const result = await build({
    entryPoints: [path.join(PLAYGROUND_DIR, 'main.ts'), path.join(PLAYGROUND_DIR, 'style.css')],
    outdir,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    // Linked source maps: the browser's debugger shows the page's TypeScript.
    sourcemap: 'linked',
    logLevel: 'silent',
  })
  const assets = new Map<string, Asset>()
  for (const file of result.outputFiles) {
    const name = path.relative(outdir, file.path)
    assets.set(name, {
      contentType: CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream',
      // Copied into a plain ArrayBuffer, which a Response's body must be.
      body: new Uint8Array(file.contents),
    })
  }
  return assets
}
