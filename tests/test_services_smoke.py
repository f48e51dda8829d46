import paho.mqtt.client as mqtt
from sqlalchemy import text


def test_private_mosquitto_accepts_a_client(mosquitto):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    assert c.connect("127.0.0.1", mosquitto.port) == 0
    c.disconnect()


def test_migrated_database_has_the_schema(engine):
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 0
