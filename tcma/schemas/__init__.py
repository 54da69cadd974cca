"""marshmallow schemas: shape and values only; they never query the database."""
