-- wrk script: POST one record to /v1/score
wrk.method = "POST"
wrk.path = "/v1/score"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"records":[{"id":1,"response":"42","label":"42"}]}'
