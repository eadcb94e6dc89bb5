-- wrk script for the provider-endpoint ceiling: the same POST rappel sends to Brevo SMS (a JSON
-- body of the same size), on keep-alive connections.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["api-key"] = "bench-key"
wrk.body = '{"sender":"RdvSoli","recipient":"33612345678","content":"Rappel : RDV PMI le lundi 15 mars a 10h30, 12 rue de la Paix, Melun. En cas d\'empechement, appelez le 0164000000.","type":"transactional","unicodeEnabled":false}'
