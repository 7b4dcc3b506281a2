import { commandOf, commandTree, topics, type Subcommand } from './command-tree.js'

/** Each subcommand's help, from the command tree: help never drifts from what the parser reads. */
export function helpText(topic: Subcommand = 'switch'): string {
  const { usage, summary, examples, footer } = topics[topic]
  const command = commandOf(commandTree(), topic)
  // A few spaces of indent, then the names; values after them, as commander lays options out.
  command.configureHelp({ helpWidth: 120, commandUsage: () => usage, optionTerm: (option) => optionTerm(option.flags) })
  const exampleWidth = Math.max(...examples.map(([cmd]) => cmd.length)) + 4
  const exampleLines = examples.map(([cmd, what]) => `  ${cmd.padEnd(exampleWidth)}${what}`.trimEnd())
  const body = command.helpInformation().trimEnd()
  return [`hms — ${summary}`, '', body, '', 'Examples:', ...exampleLines, ...(footer ? ['', footer] : [])].join('\n')
}

/** Long-only options line up with the long names of those that also have a short one. */
const optionTerm = (flags: string): string => (flags.startsWith('--') ? `    ${flags}` : flags)
