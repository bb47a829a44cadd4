scenario bad-long
probe
  url http://a.test/
  duration 9999999999999999h
