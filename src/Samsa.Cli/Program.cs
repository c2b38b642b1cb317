Console.Error.WriteLine("samsa: no commands yet; see README.md");
return 1;
