/**
 * Turns off zod's JIT, which tries `new Function` and so breaks the page's content security
 * policy. Imported first by main.ts, so that it runs before the SDK builds its schemas.
 */
import { config } from 'zod'

config({ jitless: true })
