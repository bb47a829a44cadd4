scenario bad-evidence
proxy external http://127.0.0.1:3128
probe
  url http://a.test/
expect reference
  verdict no_fin from hearsay
