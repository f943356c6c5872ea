"""The exchange log (やりとり履歴) as an RFC 9162 transparency log."""
