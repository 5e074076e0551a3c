"""SQL the models cannot declare, kept readable for the migrations that run it."""
