import { describe, expect, it } from 'vitest'
import { takeNoOptions } from '../../bench/no-options.ts'

describe('a benchmark that takes no options', () => {
  it('runs without arguments, prints its usage for --help and refuses anything else', () => {
    expect(takeNoOptions('npm run bench:json', 'What it measures.', [])).toBeUndefined()
    expect(takeNoOptions('npm run bench:json', 'What it measures.', ['--help'])).toEqual({
      code: 0,
      message: 'usage: npm run bench:json\n\nWhat it measures.',
    })
    expect(takeNoOptions('npm run bench:request', 'x', ['--help', '--fast'])).toEqual({
      code: 1,
      message: 'npm run bench:request: takes no options (see --help), not --help --fast',
    })
  })
})
