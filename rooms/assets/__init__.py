"""Pictures the server draws and therapists' uploaded pictures, offered to
activities through the contract's assets service."""
