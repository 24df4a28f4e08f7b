// The VS Code client of the `policy` language server: starts `policy lsp` for `.policy` files.
// Plain JavaScript, no build step: `npm install --omit=dev` in this folder brings vscode-languageclient.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function serverOptions() {
  const config = vscode.workspace.getConfiguration('policy');
  const command = config.get('server.path') || 'policy';
  const args = ['lsp', ...(config.get('server.extraArgs') || [])];
  return { command, args };
}

async function start(context) {
  client = new LanguageClient(
    'policy',
    'Policy Language Server',
    serverOptions(),
    {
      documentSelector: [{ language: 'policy' }],
      synchronize: {
        // Libraries and calendars change what a policy checks to.
        fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{policy,calendar}'),
      },
    },
  );
  await client.start();
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('policy.restartServer', async () => {
      if (client) {
        await client.stop();
      }
      await start(context);
    }),
  );
  try {
    await start(context);
  } catch (error) {
    vscode.window.showErrorMessage(
      `Policy: could not start \`${serverOptions().command} lsp\` (${error}). ` +
        'Install the `policy` binary or set `policy.server.path`.',
    );
  }
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
