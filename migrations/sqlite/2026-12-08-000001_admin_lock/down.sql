DELETE FROM locks WHERE name = 'admin';
