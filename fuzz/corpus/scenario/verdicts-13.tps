scenario verdict-phrases-13
probe
  url https://127.0.0.1:{tls}/bytes/100
expect
  verdict reset became fin
  verdict FIN  withheld
  verdict upload lost
  verdict refused by proxy
  verdict proxy_refused
  verdict reset_became_fin
  verdict upload_lost
