"""Users for the benchmark scripts, made the way an admin and a user would."""


def sign_up(harness, ca, work, names, password):
    """[(name, client, device)] for each of names: added with `gatectl users
    add`, then signed up with the real `gate signup` and a soft OTP device.
    Exits with gate's message if a signup fails."""
    users = []
    for name in names:
        token, _ = ca.add_user(name)
        client = harness.Client(work, ca, name)
        result, device = client.signup(token, password)
        if result.returncode != 0:
            raise SystemExit(result.stderr)
        users.append((name, client, device))
    return users
