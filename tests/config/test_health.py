def test_healthz_answers_when_the_database_does(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_root_redirects_to_the_admin(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.endswith("/admin/")
