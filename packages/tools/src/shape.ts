/**
 * The code's shape: the length of every function body and every `as` cast, for the review command
 * (function-lengths.ts) and the test that holds the product and the tooling to the house's bar
 * (test/package/shape.test.ts).
 *
 * A function is a declaration, method, accessor, constructor, function expression or arrow function
 * with a block body; its length is the lines from its first to its last line. Casts are `x as T`
 * expressions, not `as const` (a literal's narrowing) and not import/export renames (`{ a as b }`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export interface FunctionLength {
  readonly file: string;
  readonly name: string;
  readonly line: number;
  readonly lines: number;
}

export interface Cast {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** The .ts files under `folder`, without declaration files and node_modules. */
export function typeScriptFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : typeScriptFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  if (
    (ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isAccessor(node) ||
      ts.isFunctionExpression(node)) &&
    node.name
  ) {
    return node.name.getText(source);
  }
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (
    parent &&
    (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
  ) {
    return parent.name.getText(source);
  }
  return '(anonymous)';
}

function isFunctionWithBody(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    (ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isAccessor(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isFunctionExpression(node) ||
      ts.isArrowFunction(node)) &&
    node.body !== undefined &&
    ts.isBlock(node.body)
  );
}

function isAsConst(node: ts.AsExpression): boolean {
  return ts.isTypeReferenceNode(node.type) && node.type.typeName.getText() === 'const';
}

function measure(file: string, root: string): { functions: FunctionLength[]; casts: Cast[] } {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const functions: FunctionLength[] = [];
  const casts: Cast[] = [];
  const lineOf = (position: number) => source.getLineAndCharacterOfPosition(position).line + 1;
  const visit = (node: ts.Node): void => {
    if (isFunctionWithBody(node)) {
      const first = lineOf(node.getStart(source));
      functions.push({
        file: relative(root, file),
        name: nameOf(node, source),
        line: first,
        lines: lineOf(node.getEnd()) - first + 1,
      });
    }
    if (ts.isAsExpression(node) && !isAsConst(node)) {
      casts.push({
        file: relative(root, file),
        line: lineOf(node.getStart(source)),
        text: node.getText(source).replace(/\s+/g, ' ').slice(0, 90),
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { functions, casts };
}

/** The functions of `files`, longest first, and their casts; paths relative to `root`. */
export function shapeOf(
  files: readonly string[],
  root: string,
): { functions: FunctionLength[]; casts: Cast[] } {
  const measured = files.map((file) => measure(file, root));
  return {
    functions: measured.flatMap((m) => m.functions).sort((a, b) => b.lines - a.lines),
    casts: measured.flatMap((m) => m.casts),
  };
}

/** The house's bar for a function body, in lines. */
export const MOST_LINES = 50;
