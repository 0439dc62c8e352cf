/**
 * Turns off zod's JIT before any schema is built. The page's content security policy
 * forbids eval; zod would try it (in `new Function`) while the contract's schemas are being
 * made, and the browser would log the refusal as an error. The SDK's checks need no JIT.
 *
 * Imported first by main.ts: modules run in import order, so this runs before the SDK's.
 */
import { config } from 'zod'

config({ jitless: true })
