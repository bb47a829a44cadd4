scenario bad-verdict
probe
  url http://127.0.0.1:{http}/x
expect
  verdict the proxy ate it
