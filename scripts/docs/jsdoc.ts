import { readFileSync } from 'node:fs'
import ts from 'typescript'

/**
 * The doc comments of a source file's declarations, read with the TypeScript parser: the option and
 * error tables keep their explanations as comments beside each entry, and the generated pages quote
 * them, so a sentence is written once, next to the code it describes.
 */
export function sourceOf(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
}

/** The text of a node's `/** … *\/` comment, on one line, without tags; '' when it has none. */
export function docOf(node: ts.Node): string {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc)
  return docs
    .map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim()
}

/** Each property of the object literal that `const NAME = …` holds (through calls and `as`/`satisfies`), with its doc. */
export function propertyDocs(source: ts.SourceFile, name: string): Map<string, string> {
  const found = new Map<string, string>()
  const literal = objectLiteralOf(variableInitializer(source, name))
  for (const p of literal?.properties ?? []) if (p.name && ts.isIdentifier(p.name)) found.set(p.name.text, docOf(p))
  return found
}

/** Each string member of the union that `type NAME = …` names, with its doc. */
export function unionMemberDocs(source: ts.SourceFile, name: string): Map<string, string> {
  const found = new Map<string, string>()
  const alias = source.statements.find(
    (s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === name,
  )
  if (!alias || !ts.isUnionTypeNode(alias.type)) throw new Error(`${source.fileName}: no union type ${name}`)
  for (const member of alias.type.types)
    if (ts.isLiteralTypeNode(member) && ts.isStringLiteral(member.literal))
      found.set(member.literal.text, memberDoc(source, member))
  return found
}

/** A union member's comment sits before its `|`, which the parser does not attach to the member. */
function memberDoc(source: ts.SourceFile, member: ts.Node): string {
  const before = source.text.slice(0, member.getStart(source))
  const match = /\/\*\*((?:[^*]|\*(?!\/))*)\*\/\s*\|\s*$/.exec(before)
  return (match?.[1] ?? '')
    .replace(/^\s*\*\s?/gm, ' ')
    .replace(/\s+/g, ' ')
    .trim()
}

function variableInitializer(source: ts.SourceFile, name: string): ts.Expression {
  for (const s of source.statements)
    if (ts.isVariableStatement(s))
      for (const d of s.declarationList.declarations)
        if (ts.isIdentifier(d.name) && d.name.text === name && d.initializer) return d.initializer
  throw new Error(`${source.fileName}: no const ${name}`)
}

function objectLiteralOf(node: ts.Node): ts.ObjectLiteralExpression | undefined {
  if (ts.isObjectLiteralExpression(node)) return node
  if (ts.isCallExpression(node)) return node.arguments.map(objectLiteralOf).find(Boolean)
  if (ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isParenthesizedExpression(node))
    return objectLiteralOf(node.expression)
  return undefined
}
