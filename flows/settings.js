// Node-RED settings for running the edge_voice flows headless (the tests, CI, a quick local try).
// Everything comes from the environment; a real install keeps its own settings.js and imports
// the flow files into its editor instead (see docs/NODE_RED.md).
//
//   NODE_RED_USER_DIR           user directory (default: ./.node-red next to this file)
//   NODE_RED_FLOW_FILE          flows file (default: flows.json in the user directory)
//   NODE_RED_PORT               editor/admin port (default 1880)
//   NODE_RED_HOST               listen address (default 127.0.0.1: the admin API has no login)
//   NODE_RED_CREDENTIAL_SECRET  key for the credentials file (default: unencrypted)
const path = require("path");

module.exports = {
    userDir: process.env.NODE_RED_USER_DIR || path.join(__dirname, ".node-red"),
    flowFile: process.env.NODE_RED_FLOW_FILE || "flows.json",
    flowFilePretty: true,
    uiPort: parseInt(process.env.NODE_RED_PORT || "1880", 10),
    uiHost: process.env.NODE_RED_HOST || "127.0.0.1",
    // No adminAuth: the editor and admin API are open, so they listen on loopback by default.
    credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET || false,
    diagnostics: { enabled: true, ui: false },
    telemetry: { enabled: false },
    // The flows need only the modules in package.json: never install anything at run time.
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    functionExternalModules: false,
    logging: { console: { level: process.env.NODE_RED_LOG_LEVEL || "info", metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false } },
};
