"""The end-to-end demo (`fulcrum demo`) and the embedded loopback server it runs on."""
