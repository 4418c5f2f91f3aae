#!/usr/bin/env node
// Checks the published declarations (dist/*.d.ts, written by `npm run build`) with API Extractor,
// once per entry point, against the reports committed in etc/: a public signature that changed
// without its report, or a type that a public signature uses but the entry does not export
// (ae-forgotten-export), fails. `npm run api` (this script with --update) rewrites the reports
// after an intended change; commit them with it.
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';

/** Published entry → its report's name (etc/<name>.api.md). `webq8/worker` exports nothing. */
const ENTRIES = [
  ['dist/index.d.ts', 'webq8'],
  ['dist/advanced.d.ts', 'webq8-advanced'],
  ['dist/kernels.d.ts', 'webq8-kernels'],
  ['dist/quantize.d.ts', 'webq8-quantize'],
];

/**
 * Names the main entry exports. `webq8/advanced` imports its types from 'webq8' (the package itself,
 * which API Extractor reads as part of this package, not as an outside library): a type it uses but
 * does not export is fine when the main entry exports it, and that entry has its own check.
 */
function mainExports() {
  const program = ts.createProgram(['dist/index.d.ts'], { noResolve: false, types: [] });
  const checker = program.getTypeChecker();
  return new Set(checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile('dist/index.d.ts'))).map((s) => s.name));
}

const update = process.argv.includes('--update');
const configFile = resolve('api-extractor.json');
const base = ExtractorConfig.loadFile(configFile);
const main = existsSync('dist/index.d.ts') ? mainExports() : new Set();
let failed = 0;
for (const [dts, report] of ENTRIES) {
  if (!existsSync(dts)) {
    console.error(`${dts} is missing: run \`npm run build\` first.`);
    process.exit(1);
  }
  const configObject = {
    ...base,
    mainEntryPointFilePath: `<projectFolder>/${dts}`,
    compiler: { ...base.compiler, overrideTsconfig: { ...base.compiler.overrideTsconfig, files: [dts] } },
    apiReport: { ...base.apiReport, reportFileName: report },
  };
  const config = ExtractorConfig.prepare({ configObject, configObjectFullPath: configFile, packageJsonFullPath: resolve('package.json') });
  const result = Extractor.invoke(config, {
    localBuild: update,
    showVerboseMessages: false,
    messageCallback: (message) => {
      if (report === 'webq8-advanced' && message.messageId === 'ae-forgotten-export' && main.has(/The symbol "(\w+)"/.exec(message.text)?.[1])) {
        message.logLevel = 'none';
      }
    },
  });
  if (!result.succeeded || (!update && result.warningCount > 0)) {
    failed++;
    const why = result.apiReportChanged && !update ? ' (the public API changed: run `npm run api` and commit etc/)' : '';
    console.error(`${report}: ${result.errorCount} errors, ${result.warningCount} warnings${why}`);
  } else console.log(`${report}: API report ${update && result.apiReportChanged ? 'updated' : 'up to date'}`);
}
process.exit(failed ? 1 : 0);
